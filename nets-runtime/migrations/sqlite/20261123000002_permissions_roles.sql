-- SQLite: timestamps are ISO-8601 UTC text, JSON is text checked by json_valid, UUIDs are
-- 16-byte blobs (sqlx's encoding of uuid::Uuid). Keep equivalent to ../postgres/.
-- nets built-in tables, part 2: permissions and roles, global or scoped to a project.
-- A project is identified by a positive integer id (`project_id`); NULL means global.
-- Uniqueness "per project" treats every global row as one scope: COALESCE(project_id, 0).

CREATE TABLE nets_permission (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    codename VARCHAR(150) NOT NULL,
    name VARCHAR(150) NOT NULL,
    description VARCHAR(250),
    project_id INTEGER CHECK (project_id > 0),
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_fields TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(updated_fields))
);
CREATE UNIQUE INDEX nets_permission_codename_project_uniq
    ON nets_permission (lower(codename), COALESCE(project_id, 0));
CREATE INDEX nets_permission_project_idx ON nets_permission (project_id);

CREATE TABLE nets_role (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(150) NOT NULL,
    description VARCHAR(250) NOT NULL DEFAULT '',
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    project_id INTEGER CHECK (project_id > 0),
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_fields TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(updated_fields))
);
CREATE UNIQUE INDEX nets_role_name_project_uniq ON nets_role (name, COALESCE(project_id, 0));
CREATE INDEX nets_role_project_idx ON nets_role (project_id);

CREATE TABLE nets_role_permission (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    role_id INTEGER NOT NULL REFERENCES nets_role (id) ON DELETE CASCADE,
    permission_id INTEGER NOT NULL REFERENCES nets_permission (id) ON DELETE CASCADE,
    custom_name VARCHAR(150),
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (role_id, permission_id)
);
CREATE INDEX nets_role_permission_permission_idx ON nets_role_permission (permission_id);

CREATE TABLE nets_user_role (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES nets_user (id) ON DELETE CASCADE,
    role_id INTEGER NOT NULL REFERENCES nets_role (id) ON DELETE CASCADE,
    project_id INTEGER CHECK (project_id > 0),
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX nets_user_role_uniq
    ON nets_user_role (user_id, role_id, COALESCE(project_id, 0));
CREATE INDEX nets_user_role_role_idx ON nets_user_role (role_id);
CREATE INDEX nets_user_role_project_idx ON nets_user_role (project_id);
