-- SQLite: timestamps are ISO-8601 UTC text, JSON is text checked by json_valid, UUIDs are
-- 16-byte blobs (sqlx's encoding of uuid::Uuid). Keep equivalent to ../postgres/.
-- nets built-in tables, part 3: user devices and one-time verification codes.

CREATE TABLE nets_user_device (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES nets_user (id) ON DELETE CASCADE,
    uuid BLOB NOT NULL UNIQUE,
    name VARCHAR(250) NOT NULL DEFAULT '',
    os VARCHAR(250),
    os_version VARCHAR(250),
    app_version VARCHAR(250),
    device_type VARCHAR(250),
    firebase_token TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    ip VARCHAR(64),
    last_login TEXT,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_fields TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(updated_fields))
);
CREATE INDEX nets_user_device_user_idx ON nets_user_device (user_id);
CREATE INDEX nets_user_device_firebase_token_idx ON nets_user_device (user_id, firebase_token);

-- One-time codes: only a digest of the code is kept; `attempts` counts failed tries and
-- `consumed_at` makes a code single-use.
CREATE TABLE nets_verification_code (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES nets_user (id) ON DELETE CASCADE,
    device_id INTEGER REFERENCES nets_user_device (id) ON DELETE CASCADE,
    code_digest VARCHAR(128) NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    ip VARCHAR(64),
    expires TEXT NOT NULL,
    consumed_at TEXT,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX nets_verification_code_user_idx ON nets_verification_code (user_id, created);
CREATE INDEX nets_verification_code_device_idx ON nets_verification_code (device_id);
