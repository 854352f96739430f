-- A tiny application migration set for tests/tests/db.rs. Its version deliberately equals
-- nets' first built-in migration: the two sets are recorded in different tables
-- (`_sqlx_migrations` and `_nets_migrations`), so they cannot clash.
ALTER TABLE nets_user ADD COLUMN nickname VARCHAR(64);
CREATE INDEX app_user_nickname_idx ON nets_user (nickname);
