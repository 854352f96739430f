-- SQLite. Keep equivalent to ../postgres/.
-- nets built-in tables, part 6: the access-token generation. With
-- NETS_CORE_TOKEN_CACHE_SECONDS > 0 each instance keeps recently seen bearer tokens in
-- memory; every revocation made through nets writes a new random token in row 2 (row 1
-- stays the permissions generation), and a cached token is used only while the
-- generation it was loaded under is still current. Two rows, so a permission change
-- does not drop cached tokens and a logout does not drop cached permissions.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt under its name.
ALTER TABLE nets_perm_generation RENAME TO nets_perm_generation_before_tokens;
CREATE TABLE nets_perm_generation (
    id INTEGER PRIMARY KEY CHECK (id IN (1, 2)),
    generation BIGINT NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO nets_perm_generation (id, generation, created, updated)
    SELECT id, generation, created, updated FROM nets_perm_generation_before_tokens;
DROP TABLE nets_perm_generation_before_tokens;
INSERT INTO nets_perm_generation (id, generation) VALUES (2, 0);
