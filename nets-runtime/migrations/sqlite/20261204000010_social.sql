-- SQLite. Keep equivalent to ../postgres/.
-- nets built-in tables, part 10: social login identities (issue 15). A returning user
-- is found by (provider, subject), the provider's stable id, never by e-mail alone.
CREATE TABLE nets_social_account (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES nets_user (id) ON DELETE CASCADE,
    provider VARCHAR(16) NOT NULL CHECK (provider IN ('google', 'apple', 'facebook', 'microsoft', 'github')),
    subject VARCHAR(255) NOT NULL,
    email VARCHAR(254),
    email_verified BOOLEAN NOT NULL DEFAULT 0,
    -- The provider's last profile (names, picture), as it sent it.
    profile TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(profile)),
    last_login TEXT,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (provider, subject)
);
CREATE INDEX nets_social_account_user_idx ON nets_social_account (user_id);
