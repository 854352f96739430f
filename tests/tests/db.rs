//! Storage: nets' built-in migrations and tables, on SQLite by default and on PostgreSQL
//! when `NETS_TEST_DATABASE_URL` is set (each test in a database or schema of its own).

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use nets_runtime::db::{Backend, Db};
use nets_tests::db::{TestDb, empty_test_db, test_db};
use sqlx::migrate::Migrator;

/// Runs `$body` with `$pool` bound to the SQLite or PostgreSQL pool of `$db`. Statements
/// use `$1`-style placeholders, which both backends accept.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match &$db.db {
            Db::Sqlite($pool) => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

/// Every built-in table with the columns the runtime relies on.
const TABLES: &[(&str, &[&str])] = &[
    (
        "nets_user",
        &[
            "id",
            "email",
            "username",
            "first_name",
            "last_name",
            "is_active",
            "is_staff",
            "is_superuser",
            "email_verified",
            "last_login",
            "date_joined",
            "created",
            "updated",
            "updated_fields",
        ],
    ),
    (
        "nets_oauth_application",
        &["id", "client_id", "client_secret_digest", "name", "client_type", "created", "updated"],
    ),
    (
        "nets_access_token",
        &[
            "id",
            "token_digest",
            "user_id",
            "application_id",
            "family",
            "scope",
            "expires",
            "revoked_at",
            "created",
            "updated",
        ],
    ),
    (
        "nets_refresh_token",
        &[
            "id",
            "token_digest",
            "access_token_id",
            "user_id",
            "application_id",
            "family",
            "expires",
            "used_at",
            "revoked_at",
            "created",
            "updated",
        ],
    ),
    ("nets_permission", &["id", "codename", "name", "project_id", "created", "updated", "updated_fields"]),
    ("nets_role", &["id", "name", "enabled", "project_id", "created", "updated", "updated_fields"]),
    ("nets_role_permission", &["id", "role_id", "permission_id", "created", "updated"]),
    ("nets_user_role", &["id", "user_id", "role_id", "project_id", "created", "updated"]),
    ("nets_perm_generation", &["id", "generation", "created", "updated"]),
    (
        "nets_user_device",
        &[
            "id",
            "user_id",
            "uuid",
            "name",
            "os",
            "os_version",
            "app_version",
            "firebase_token",
            "active",
            "ip",
            "last_login",
            "created",
            "updated",
            "updated_fields",
        ],
    ),
    (
        "nets_verification_code",
        &["id", "user_id", "device_id", "code_digest", "attempts", "expires", "consumed_at", "created", "updated"],
    ),
    ("nets_email_template", &["id", "name", "html_body", "enabled", "use_for", "created", "updated", "updated_fields"]),
    ("nets_custom_email", &["id", "subject", "recipients", "html_body", "created", "updated", "updated_fields"]),
    (
        "nets_email_notification",
        &["id", "recipients", "subject", "status", "attempts", "last_error", "sent_at", "created", "updated"],
    ),
    ("nets_push_notification", &["id", "user_id", "title", "message", "data", "status", "created", "updated"]),
    ("nets_push_notification_device", &["id", "notification_id", "device_id", "created", "updated"]),
    (
        "nets_social_account",
        &[
            "id",
            "user_id",
            "provider",
            "subject",
            "email",
            "email_verified",
            "profile",
            "last_login",
            "created",
            "updated",
        ],
    ),
];

async fn tables(db: &TestDb) -> BTreeSet<String> {
    let rows: Vec<String> = on_pool!(db, |pool| {
        let sql = match db.backend() {
            Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
            Backend::Postgres => {
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()"
            }
        };
        sqlx::query_scalar(sql).fetch_all(pool).await.expect("list tables")
    });
    rows.into_iter().collect()
}

async fn columns(db: &TestDb, table: &str) -> BTreeSet<String> {
    let rows: Vec<String> = on_pool!(db, |pool| {
        let sql = match db.backend() {
            Backend::Sqlite => "SELECT name FROM pragma_table_info($1)",
            Backend::Postgres => {
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1"
            }
        };
        sqlx::query_scalar(sql).bind(table).fetch_all(pool).await.expect("list columns")
    });
    rows.into_iter().collect()
}

async fn count(db: &TestDb, sql: &'static str) -> i64 {
    on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.expect(sql))
}

async fn insert_user(db: &TestDb, email: &str) -> Result<i64, sqlx::Error> {
    const SQL: &str = "INSERT INTO nets_user (email) VALUES ($1) RETURNING id";
    on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(SQL).bind(email).fetch_one(pool).await)
}

async fn app_migrator() -> Migrator {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/app");
    Migrator::new(dir).await.expect("read tests/migrations/app")
}

#[tokio::test]
async fn migrations_create_every_builtin_table_from_empty() {
    let db = empty_test_db().await;
    assert!(tables(&db).await.iter().all(|t| !t.starts_with("nets_")), "fresh database is not empty");

    db.migrate().await.expect("migrate");

    let present = tables(&db).await;
    for (table, expected) in TABLES {
        assert!(present.contains(*table), "{table} missing on {:?}; tables: {present:?}", db.backend());
        let have = columns(&db, table).await;
        for column in *expected {
            assert!(have.contains(*column), "{table}.{column} missing on {:?}; columns: {have:?}", db.backend());
        }
        assert!(have.contains("created") && have.contains("updated"), "{table} lacks created/updated");
    }
    let builtin: BTreeSet<&str> = TABLES.iter().map(|(t, _)| *t).collect();
    let unexpected: Vec<&String> =
        present.iter().filter(|t| t.starts_with("nets_") && !builtin.contains(t.as_str())).collect();
    assert!(unexpected.is_empty(), "tables not covered by this test: {unexpected:?}");
    assert!(present.contains("_nets_migrations"));
    assert!(!present.contains("_sqlx_migrations"), "built-in migrations must not use sqlx's default table");
    assert_eq!(count(&db, "SELECT count(*) FROM _nets_migrations").await, builtin_migrations());
}

#[tokio::test]
async fn running_migrations_twice_is_a_no_op() {
    let db = test_db().await;
    let id = insert_user(&db, "ada@example.com").await.expect("insert");
    let before = tables(&db).await;

    db.migrate().await.expect("second run");
    db.migrate().await.expect("third run");

    assert_eq!(tables(&db).await, before);
    assert_eq!(count(&db, "SELECT count(*) FROM _nets_migrations").await, builtin_migrations());
    assert_eq!(count(&db, "SELECT count(*) FROM nets_user").await, 1);
    let email: String = on_pool!(db, |pool| {
        sqlx::query_scalar("SELECT email FROM nets_user WHERE id = $1").bind(id).fetch_one(pool).await.unwrap()
    });
    assert_eq!(email, "ada@example.com");
}

#[tokio::test]
async fn app_migrations_run_alongside_and_extend_nets_user() {
    let db = test_db().await;
    let app = app_migrator().await;
    db.migrate_app(&app).await.expect("app migrations");
    db.migrate_app(&app).await.expect("app migrations again");
    db.migrate().await.expect("built-in migrations after the app's");

    assert!(columns(&db, "nets_user").await.contains("nickname"));
    assert_eq!(count(&db, "SELECT count(*) FROM _sqlx_migrations").await, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM _nets_migrations").await, builtin_migrations());

    let nickname: Option<String> = on_pool!(db, |pool| {
        sqlx::query("INSERT INTO nets_user (email, nickname) VALUES ($1, $2)")
            .bind("ada@example.com")
            .bind("ada")
            .execute(pool)
            .await
            .expect("insert with the app's column");
        sqlx::query_scalar("SELECT nickname FROM nets_user WHERE email = $1")
            .bind("ada@example.com")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(nickname.as_deref(), Some("ada"));
}

/// A database migrated before the token generation existed keeps its permissions
/// generation and gains row 2; no third row fits.
#[tokio::test]
async fn the_token_generation_migration_keeps_the_permissions_generation() {
    let db = empty_test_db().await;
    let mut before = match db.backend() {
        Backend::Sqlite => nets_runtime::db::sqlite_migrator(),
        Backend::Postgres => nets_runtime::db::postgres_migrator(),
    };
    let first_five: Vec<_> = before.migrations.iter().take(5).cloned().collect();
    assert!(before.migrations[5].description.contains("token generation"), "{}", before.migrations[5].description);
    before.migrations = first_five.into();
    on_pool!(db, |pool| before.run(pool).await.expect("migrations 1-5"));
    on_pool!(db, |pool| sqlx::query("UPDATE nets_perm_generation SET generation = 42").execute(pool).await.map(drop))
        .expect("set the permissions generation");

    db.migrate().await.expect("migration 6");
    assert_eq!(count(&db, "SELECT generation FROM nets_perm_generation WHERE id = 1").await, 42);
    assert_eq!(count(&db, "SELECT generation FROM nets_perm_generation WHERE id = 2").await, 0);
    let third = on_pool!(db, |pool| sqlx::query("INSERT INTO nets_perm_generation (id, generation) VALUES (3, 0)")
        .execute(pool)
        .await
        .map(drop));
    assert!(third.is_err(), "rows 1 and 2 only");
}

#[tokio::test]
async fn secrets_are_stored_as_digests_only() {
    let db = test_db().await;
    let plaintext = ["client_secret", "secret", "token", "code", "password", "access_token", "refresh_token"];
    for (table, _) in TABLES {
        let have = columns(&db, table).await;
        for column in plaintext {
            assert!(!have.contains(column), "{table}.{column} would hold a secret in plaintext");
        }
    }
    assert!(columns(&db, "nets_oauth_application").await.contains("client_secret_digest"));
    assert!(columns(&db, "nets_access_token").await.contains("token_digest"));
    assert!(columns(&db, "nets_refresh_token").await.contains("token_digest"));
    assert!(columns(&db, "nets_verification_code").await.contains("code_digest"));
}

#[tokio::test]
async fn deleting_a_user_deletes_what_they_own() {
    let db = test_db().await;
    let user = insert_user(&db, "ada@example.com").await.unwrap();
    let other = insert_user(&db, "bob@example.com").await.unwrap();
    let family = uuid::Uuid::new_v4();
    let expires = Utc::now() + chrono::Duration::days(30);
    on_pool!(db, |pool| {
        let app: i64 = sqlx::query_scalar(
            "INSERT INTO nets_oauth_application (client_id, client_secret_digest, name) \
             VALUES ('app', 'digest', 'App') RETURNING id",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        for (owner, digest) in [(user, "a1"), (other, "a2")] {
            let access: i64 = sqlx::query_scalar(
                "INSERT INTO nets_access_token (token_digest, user_id, application_id, family, expires) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(digest)
            .bind(owner)
            .bind(app)
            .bind(family)
            .bind(expires)
            .fetch_one(pool)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO nets_refresh_token \
                 (token_digest, access_token_id, user_id, application_id, family, expires) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(format!("r-{digest}"))
            .bind(access)
            .bind(owner)
            .bind(app)
            .bind(family)
            .bind(expires)
            .execute(pool)
            .await
            .unwrap();
        }
        let device: i64 = sqlx::query_scalar(
            "INSERT INTO nets_user_device (user_id, uuid, name) VALUES ($1, $2, 'phone') RETURNING id",
        )
        .bind(user)
        .bind(uuid::Uuid::new_v4())
        .fetch_one(pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO nets_verification_code (user_id, device_id, code_digest, expires) VALUES ($1, $2, 'd', $3)",
        )
        .bind(user)
        .bind(device)
        .bind(expires)
        .execute(pool)
        .await
        .unwrap();
        let role: i64 = sqlx::query_scalar("INSERT INTO nets_role (name) VALUES ('editor') RETURNING id")
            .fetch_one(pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO nets_user_role (user_id, role_id, project_id) VALUES ($1, $2, 7)")
            .bind(user)
            .bind(role)
            .execute(pool)
            .await
            .unwrap();
        let push: i64 =
            sqlx::query_scalar("INSERT INTO nets_push_notification (user_id, title) VALUES ($1, 'hi') RETURNING id")
                .bind(user)
                .fetch_one(pool)
                .await
                .unwrap();
        sqlx::query("INSERT INTO nets_push_notification_device (notification_id, device_id) VALUES ($1, $2)")
            .bind(push)
            .bind(device)
            .execute(pool)
            .await
            .unwrap();

        sqlx::query("DELETE FROM nets_user WHERE id = $1").bind(user).execute(pool).await.unwrap();
    });

    for (sql, left) in [
        ("SELECT count(*) FROM nets_user", 1),
        ("SELECT count(*) FROM nets_access_token", 1),
        ("SELECT count(*) FROM nets_refresh_token", 1),
        ("SELECT count(*) FROM nets_user_device", 0),
        ("SELECT count(*) FROM nets_verification_code", 0),
        ("SELECT count(*) FROM nets_user_role", 0),
        ("SELECT count(*) FROM nets_push_notification", 0),
        ("SELECT count(*) FROM nets_push_notification_device", 0),
        ("SELECT count(*) FROM nets_role", 1),
        ("SELECT count(*) FROM nets_oauth_application", 1),
    ] {
        assert_eq!(count(&db, sql).await, left, "{sql} after deleting the user");
    }
}

#[tokio::test]
async fn email_is_unique_whatever_its_case() {
    let db = test_db().await;
    insert_user(&db, "Ada@Example.com").await.expect("first");
    let err = insert_user(&db, "ada@example.COM").await.expect_err("same address, other case");
    assert!(err.as_database_error().is_some_and(|e| e.is_unique_violation()), "expected a unique violation, got {err}");
    insert_user(&db, "bob@example.com").await.expect("another address");
}

#[tokio::test]
async fn permission_codenames_are_unique_per_project_whatever_their_case() {
    let db = test_db().await;
    let insert = |codename: &'static str, project: Option<i64>| {
        let db = &db;
        async move {
            on_pool!(db, |pool| {
                sqlx::query("INSERT INTO nets_permission (codename, name, project_id) VALUES ($1, $1, $2)")
                    .bind(codename)
                    .bind(project)
                    .execute(pool)
                    .await
                    .map(|_| ())
            })
        }
    };
    insert("invoice.edit", None).await.expect("global");
    insert("Invoice.Edit", None).await.expect_err("global twice");
    insert("invoice.edit", Some(1)).await.expect("in project 1");
    insert("INVOICE.EDIT", Some(1)).await.expect_err("project 1 twice");
    insert("invoice.edit", Some(2)).await.expect("in project 2");
}

#[tokio::test]
async fn client_strings_are_bound_never_interpolated() {
    let db = test_db().await;
    let hostile = "'); DROP TABLE nets_user; --";
    let id = insert_user(&db, hostile).await.expect("insert a hostile string as a value");
    let (email, created): (String, DateTime<Utc>) = on_pool!(db, |pool| {
        sqlx::query_as("SELECT email, created FROM nets_user WHERE email = $1")
            .bind(hostile)
            .fetch_one(pool)
            .await
            .expect("read it back")
    });
    assert_eq!(email, hostile);
    assert!((Utc::now() - created).num_seconds().abs() < 60, "created defaults to now: {created}");
    assert!(tables(&db).await.contains("nets_user"));
    assert_eq!(insert_user(&db, "bob@example.com").await.expect("table still there"), id + 1);
}

#[tokio::test]
async fn tests_are_isolated_from_each_other() {
    let (a, b) = (test_db().await, test_db().await);
    insert_user(&a, "ada@example.com").await.unwrap();
    assert_eq!(count(&b, "SELECT count(*) FROM nets_user").await, 0);
    insert_user(&b, "ada@example.com").await.expect("same address in another test database");
    if let (Some(sa), Some(sb)) = (a.schema(), b.schema()) {
        assert_ne!(sa, sb);
    }
}

/// How many built-in migrations nets ships (one file per migration and backend).
fn builtin_migrations() -> i64 {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../nets-runtime/migrations/sqlite");
    let files = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    files.filter_map(Result::ok).filter(|f| f.path().extension().is_some_and(|e| e == "sql")).count() as i64
}
