-- The projects example's own tables (SQLite), applied after nets' migrations by
-- `projects migrate` and at start-up; and its three users.
CREATE TABLE IF NOT EXISTS projects (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);
CREATE TABLE IF NOT EXISTS project_members (
    project_id BIGINT NOT NULL REFERENCES projects (id),
    user_id BIGINT NOT NULL,
    is_superuser BOOLEAN NOT NULL DEFAULT FALSE,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    role VARCHAR(50),
    PRIMARY KEY (project_id, user_id)
);
CREATE TABLE IF NOT EXISTS documents (id INTEGER PRIMARY KEY, project_id BIGINT NOT NULL, title VARCHAR(200) NOT NULL);
INSERT INTO nets_user (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com'), (3, 'cy@example.com')
    ON CONFLICT DO NOTHING;
