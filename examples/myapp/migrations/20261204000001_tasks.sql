-- myapp's table (SQLite, the default database), applied after nets' own migrations.
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES nets_user (id) ON DELETE CASCADE,
    title VARCHAR(200) NOT NULL,
    done BOOLEAN NOT NULL DEFAULT FALSE
);
