-- SQLite: timestamps are ISO-8601 UTC text, JSON is text checked by json_valid, UUIDs are
-- 16-byte blobs (sqlx's encoding of uuid::Uuid). Keep equivalent to ../postgres/.
-- nets built-in tables, part 4: e-mail templates and queue, push notifications.

CREATE TABLE nets_email_template (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER REFERENCES nets_user (id) ON DELETE SET NULL,
    name VARCHAR(150) NOT NULL UNIQUE,
    subject VARCHAR(250),
    html_body TEXT NOT NULL,
    text_body TEXT,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    use_for VARCHAR(50) NOT NULL DEFAULT 'other' CHECK (use_for IN ('verification_code', 'other')),
    project_id INTEGER CHECK (project_id > 0),
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_fields TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(updated_fields))
);
CREATE INDEX nets_email_template_use_for_idx ON nets_email_template (use_for, enabled);
CREATE INDEX nets_email_template_project_idx ON nets_email_template (project_id);

CREATE TABLE nets_custom_email (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER REFERENCES nets_user (id) ON DELETE SET NULL,
    subject VARCHAR(250) NOT NULL,
    recipients TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(recipients)),
    from_email VARCHAR(254) NOT NULL DEFAULT '',
    html_body TEXT NOT NULL,
    txt_body TEXT,
    completed BOOLEAN NOT NULL DEFAULT FALSE,
    sent_count INTEGER NOT NULL DEFAULT 0,
    failed_count INTEGER NOT NULL DEFAULT 0,
    project_id INTEGER CHECK (project_id > 0),
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_fields TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(updated_fields))
);
CREATE INDEX nets_custom_email_user_idx ON nets_custom_email (user_id);
CREATE INDEX nets_custom_email_project_idx ON nets_custom_email (project_id);

-- The outgoing e-mail queue: `recipients` is a JSON array of addresses.
CREATE TABLE nets_email_notification (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recipients TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(recipients)),
    from_email VARCHAR(254) NOT NULL DEFAULT '',
    subject VARCHAR(250) NOT NULL,
    html_body TEXT NOT NULL DEFAULT '',
    txt_body TEXT,
    status VARCHAR(16) NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at TEXT,
    custom_email_id INTEGER REFERENCES nets_custom_email (id) ON DELETE CASCADE,
    project_id INTEGER CHECK (project_id > 0),
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX nets_email_notification_status_idx ON nets_email_notification (status, created);
CREATE INDEX nets_email_notification_custom_email_idx ON nets_email_notification (custom_email_id);

-- Push notifications to a user, and the devices each one was sent to.
CREATE TABLE nets_push_notification (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES nets_user (id) ON DELETE CASCADE,
    title VARCHAR(250) NOT NULL DEFAULT '',
    message TEXT,
    data TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
    channel VARCHAR(100),
    status VARCHAR(16) NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sending', 'sent', 'partial', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at TEXT,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX nets_push_notification_user_idx ON nets_push_notification (user_id, created);
CREATE INDEX nets_push_notification_status_idx ON nets_push_notification (status, created);

CREATE TABLE nets_push_notification_device (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id INTEGER NOT NULL REFERENCES nets_push_notification (id) ON DELETE CASCADE,
    device_id INTEGER NOT NULL REFERENCES nets_user_device (id) ON DELETE CASCADE,
    message_id VARCHAR(250),
    error TEXT,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (notification_id, device_id)
);
CREATE INDEX nets_push_notification_device_device_idx ON nets_push_notification_device (device_id);
