-- PostgreSQL. Keep equivalent to ../sqlite/ (same tables, columns, constraints, indexes).
-- Push notifications (issue 14): per-device delivery state, so a re-run fan-out never
-- sends twice to a device already recorded as sent; the options a message was sent
-- with; read receipts; why a device stopped receiving pushes.

-- The message's options beyond title/body/data/channel (image, sound, badge,
-- collapse_key, ttl_seconds), so a queued fan-out sends exactly what was asked.
ALTER TABLE nets_push_notification ADD COLUMN options JSONB NOT NULL DEFAULT '{}'::jsonb;
-- When the user marked it read (the notifications endpoint).
ALTER TABLE nets_push_notification ADD COLUMN read_at TIMESTAMPTZ;
CREATE INDEX nets_push_notification_unread_idx ON nets_push_notification (user_id, read_at);

-- One row per (notification, device): `queued` -> `sending` -> `sent` | `failed` (worth
-- another attempt) | `dead` (never retried by itself: dead token, refused message,
-- configuration). `error` holds the last failure.
ALTER TABLE nets_push_notification_device ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'dead'));
ALTER TABLE nets_push_notification_device ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nets_push_notification_device ADD COLUMN sent_at TIMESTAMPTZ;
CREATE INDEX nets_push_notification_device_status_idx ON nets_push_notification_device (status, notification_id);

-- A device whose token FCM declared dead keeps its row, history and codes (the original
-- deleted it): the token is cleared, `active` turned off and the reason kept here.
ALTER TABLE nets_user_device ADD COLUMN inactive_reason TEXT;
ALTER TABLE nets_user_device ADD COLUMN inactive_since TIMESTAMPTZ;
