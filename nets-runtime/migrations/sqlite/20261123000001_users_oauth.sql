-- SQLite: timestamps are ISO-8601 UTC text, JSON is text checked by json_valid, UUIDs are
-- 16-byte blobs (sqlx's encoding of uuid::Uuid). Keep equivalent to ../postgres/.
-- nets built-in tables, part 1: users and OAuth2 (applications, access and refresh tokens).
-- Secrets are never stored: client secrets, tokens and codes are kept as digests only.

-- Users. Applications extend this table with their own migrations (ALTER TABLE nets_user
-- ADD COLUMN ..), tracked in sqlx's `_sqlx_migrations`, apart from these.
CREATE TABLE nets_user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email VARCHAR(254) NOT NULL,
    username VARCHAR(150),
    first_name VARCHAR(150) NOT NULL DEFAULT '',
    last_name VARCHAR(150) NOT NULL DEFAULT '',
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    is_staff BOOLEAN NOT NULL DEFAULT FALSE,
    is_superuser BOOLEAN NOT NULL DEFAULT FALSE,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    last_login TEXT,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_fields TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(updated_fields))
);
-- One account per address, whatever its case (`Ada@x.com` and `ada@x.com` are one user).
CREATE UNIQUE INDEX nets_user_email_ci_uniq ON nets_user (lower(email));
CREATE UNIQUE INDEX nets_user_username_ci_uniq ON nets_user (lower(username));

-- OAuth2 client applications. A confidential client has a secret, stored as a digest.
CREATE TABLE nets_oauth_application (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id VARCHAR(100) NOT NULL UNIQUE,
    client_secret_digest VARCHAR(255),
    name VARCHAR(255) NOT NULL DEFAULT '',
    client_type VARCHAR(16) NOT NULL DEFAULT 'confidential'
        CHECK (client_type IN ('confidential', 'public')),
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_fields TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(updated_fields)),
    CHECK (client_type = 'public' OR client_secret_digest IS NOT NULL)
);

-- Access tokens, looked up by the digest of the bearer token. `family` ties the tokens of
-- one login (access and refresh) together, so a reused refresh token revokes them all.
CREATE TABLE nets_access_token (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_digest VARCHAR(128) NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES nets_user (id) ON DELETE CASCADE,
    application_id INTEGER NOT NULL REFERENCES nets_oauth_application (id) ON DELETE CASCADE,
    family BLOB NOT NULL,
    scope VARCHAR(255) NOT NULL DEFAULT '',
    expires TEXT NOT NULL,
    revoked_at TEXT,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX nets_access_token_user_idx ON nets_access_token (user_id);
CREATE INDEX nets_access_token_application_idx ON nets_access_token (application_id);
CREATE INDEX nets_access_token_family_idx ON nets_access_token (family);
CREATE INDEX nets_access_token_expires_idx ON nets_access_token (expires);

-- Refresh tokens: single use (`used_at`); presenting a used one revokes its family.
CREATE TABLE nets_refresh_token (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_digest VARCHAR(128) NOT NULL UNIQUE,
    access_token_id INTEGER REFERENCES nets_access_token (id) ON DELETE SET NULL,
    user_id INTEGER NOT NULL REFERENCES nets_user (id) ON DELETE CASCADE,
    application_id INTEGER NOT NULL REFERENCES nets_oauth_application (id) ON DELETE CASCADE,
    family BLOB NOT NULL,
    expires TEXT NOT NULL,
    used_at TEXT,
    revoked_at TEXT,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX nets_refresh_token_access_token_idx ON nets_refresh_token (access_token_id);
CREATE INDEX nets_refresh_token_user_idx ON nets_refresh_token (user_id);
CREATE INDEX nets_refresh_token_application_idx ON nets_refresh_token (application_id);
CREATE INDEX nets_refresh_token_family_idx ON nets_refresh_token (family);
