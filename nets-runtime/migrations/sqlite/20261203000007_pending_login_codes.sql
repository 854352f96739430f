-- SQLite. Keep equivalent to ../postgres/.
-- nets built-in tables, part 7: codes for logins that have no account yet. `/login/` no
-- longer creates the account: the code of an unknown identifier is kept under that
-- identifier (`user_id` NULL) with the address it was sent to and the device the login
-- described, and the first successful `/authenticate/` creates the account. Exactly one
-- of `user_id` and `identifier` is set.
-- SQLite cannot drop a NOT NULL in place: the table is rebuilt under its name.
ALTER TABLE nets_verification_code RENAME TO nets_verification_code_before_pending;
CREATE TABLE nets_verification_code (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER REFERENCES nets_user (id) ON DELETE CASCADE,
    device_id INTEGER REFERENCES nets_user_device (id) ON DELETE CASCADE,
    code_digest VARCHAR(128) NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    ip VARCHAR(64),
    expires TEXT NOT NULL,
    consumed_at TEXT,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    identifier VARCHAR(254),
    address VARCHAR(254),
    device TEXT CHECK (device IS NULL OR json_valid(device)),
    CHECK ((user_id IS NULL) <> (identifier IS NULL))
);
INSERT INTO nets_verification_code
    (id, user_id, device_id, code_digest, attempts, ip, expires, consumed_at, created, updated)
    SELECT id, user_id, device_id, code_digest, attempts, ip, expires, consumed_at, created, updated
    FROM nets_verification_code_before_pending;
DROP TABLE nets_verification_code_before_pending;
CREATE INDEX nets_verification_code_user_idx ON nets_verification_code (user_id, created);
CREATE INDEX nets_verification_code_device_idx ON nets_verification_code (device_id);
CREATE INDEX nets_verification_code_identifier_idx ON nets_verification_code (lower(identifier), id)
    WHERE identifier IS NOT NULL;
