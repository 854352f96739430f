//! Shared set-up of the `perms*` suites: users, two projects with memberships, and
//! helpers to run SQL on either backend.

#![allow(dead_code)] // each suite uses part of it

use nets_runtime::Settings;
use nets_runtime::db::Db;
use nets_runtime::perms::Perms;

/// Regular users 1 (ada), 2 (bob), 3 (cy), and superuser 9, as in `nets_tests::bearer`
/// (plus cy, who has no token).
pub const ADA: i64 = 1;
pub const BOB: i64 = 2;
pub const CY: i64 = 3;
pub const ROOT: i64 = 9;

/// Projects 1 ("Apollo") and 2 ("Gemini"). Memberships (text role column):
/// * Apollo: ada (role "Editor"), bob (project superuser), cy (disabled, superuser);
/// * Gemini: ada (no role).
///
/// Tables `ref_project`/`ref_member` hold the same projects with a `role_id` column
/// referencing `nets_role` instead, and no `enabled`/`is_superuser` columns.
const SCHEMA: &[&str] = &[
    "INSERT INTO nets_user (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com'), \
     (3, 'cy@example.com'), (9, 'root@example.com')",
    "CREATE TABLE app_project (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL)",
    "CREATE TABLE app_member (id BIGINT PRIMARY KEY, project_id BIGINT NOT NULL, user_id BIGINT NOT NULL, \
     is_superuser BOOLEAN NOT NULL DEFAULT FALSE, enabled BOOLEAN NOT NULL DEFAULT TRUE, role VARCHAR(50))",
    "INSERT INTO app_project (id, name) VALUES (1, 'Apollo'), (2, 'Gemini')",
    "INSERT INTO app_member (id, project_id, user_id, is_superuser, enabled, role) VALUES \
     (1, 1, 1, FALSE, TRUE, 'Editor'), (2, 1, 2, TRUE, TRUE, NULL), (3, 1, 3, TRUE, FALSE, 'Editor'), \
     (4, 2, 1, FALSE, TRUE, NULL)",
    "CREATE TABLE ref_project (id INTEGER PRIMARY KEY)",
    "CREATE TABLE ref_member (project_id INTEGER NOT NULL, user_id INTEGER NOT NULL, role_id BIGINT)",
    "INSERT INTO ref_project (id) VALUES (1), (2)",
];

/// Runs one statement.
pub async fn exec(db: &Db, sql: &'static str) {
    let result = match db {
        Db::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
        Db::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
    };
    if let Err(e) = result {
        panic!("{sql}: {e}");
    }
}

/// One `i64` from a query.
pub async fn count(db: &Db, sql: &'static str) -> i64 {
    let result = match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    };
    result.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Creates the users, projects and memberships above.
pub async fn seed(db: &Db) {
    for sql in SCHEMA {
        exec(db, sql).await;
    }
}

/// Settings with the `app_project` / `app_member` tables and `extra` TOML.
pub fn settings(extra: &str) -> Settings {
    nets_tests::settings(&format!(
        "NETS_CORE_PROJECT_MODEL = 'app_project'\nNETS_CORE_PROJECT_MEMBER_MODEL = 'app_member'\n{extra}"
    ))
}

/// [`Perms`] over `db` from [`settings`].
pub async fn perms(db: &Db, extra: &str) -> Perms {
    match Perms::from_settings(&settings(extra), db).await {
        Ok(perms) => perms,
        Err(e) => panic!("Perms::from_settings: {e}"),
    }
}

/// A user's note (`notes`, owner `user_id`), for the ownership checks of `model = Note`.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, nets_runtime::NetsModel)]
#[nets(table = "notes", owner = "user_id")]
pub struct Note {
    pub id: i64,
    pub user_id: i64,
    pub body: String,
}

/// Creates the (empty) `notes` table of [`Note`].
pub async fn create_notes(db: &Db) {
    exec(db, "CREATE TABLE notes (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, body VARCHAR(100) NOT NULL)").await;
}
