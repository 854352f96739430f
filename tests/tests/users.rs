//! `UserTable`: configured user fields checked against the real columns of `nets_user`,
//! profile JSON and user updates limited to them, on SQLite and PostgreSQL.

use nets_runtime::db::Db;
use nets_runtime::params::CoerceCx;
use nets_runtime::users::{Identifier, UserTable, UserTableError};
use nets_runtime::{ApiError, Settings};
use nets_tests::db::{TestDb, exec, test_db};
use serde_json::{Map, Value, json};

/// A migrated database with two users and two application columns.
async fn users_db() -> TestDb {
    let db = test_db().await;
    exec(&db, "ALTER TABLE nets_user ADD COLUMN age INTEGER").await;
    exec(&db, "ALTER TABLE nets_user ADD COLUMN newsletter BOOLEAN NOT NULL DEFAULT FALSE").await;
    exec(
        &db,
        "INSERT INTO nets_user (id, email, first_name, is_superuser) VALUES (1, 'ada@example.com', 'Ada', FALSE), \
         (2, 'bob@example.com', 'Bob', TRUE)",
    )
    .await;
    db
}

fn settings(toml: &str) -> Settings {
    Settings::from_toml(toml).expect("settings")
}

fn app_settings() -> Settings {
    settings(
        "NETS_CORE_USER_JSON_FIELDS = ['id', 'email', 'first_name', 'age', 'newsletter']\n\
         NETS_CORE_USER_UPDATABLE_FIELDS = ['first_name', 'age', 'newsletter']",
    )
}

fn changes(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

async fn profile(users: &UserTable, db: &Db, id: i64) -> Value {
    Value::Object(users.to_json(db, id, None).await.unwrap().expect("user"))
}

#[tokio::test]
async fn defaults_fit_the_built_in_table() {
    let db = test_db().await;
    let users = UserTable::load(&db, &Settings::default()).await.unwrap();
    assert_eq!(users.identifier(), Identifier::Email);
    assert_eq!(
        users.json_fields().collect::<Vec<_>>(),
        ["id", "email", "username", "first_name", "last_name", "email_verified", "last_login", "date_joined"]
    );
    assert_eq!(users.updatable_fields().collect::<Vec<_>>(), ["first_name", "last_name"]);
    let s = settings("NETS_CORE_USER_IDENTIFIER = 'username'");
    assert_eq!(UserTable::load(&db, &s).await.unwrap().identifier().column(), "username");
    assert!(Settings::from_toml("NETS_CORE_USER_IDENTIFIER = 'phone'").is_err());
}

#[tokio::test]
async fn configured_names_must_be_columns_and_privileges_are_never_updatable() {
    let db = users_db().await;
    let unknown = settings("NETS_CORE_USER_JSON_FIELDS = ['id', 'nickname']");
    let err = UserTable::load(&db, &unknown).await.unwrap_err();
    assert!(matches!(&err, UserTableError::UnknownColumn { name, .. } if name == "nickname"), "{err}");
    assert!(err.to_string().contains("age"), "the message lists the real columns: {err}");

    for field in ["is_superuser", "is_staff", "email", "id", "updated_fields", "email_verified"] {
        let s = settings(&format!("NETS_CORE_USER_UPDATABLE_FIELDS = ['{field}']"));
        let err = UserTable::load(&db, &s).await.unwrap_err();
        assert!(matches!(&err, UserTableError::Refused { name, .. } if name == field), "{err}");
    }
    // Protected fields are never visible.
    let s = settings("NETS_CORE_USER_JSON_FIELDS = ['id', 'is_superuser']");
    assert!(matches!(UserTable::load(&db, &s).await, Err(UserTableError::Refused { .. })));
    // A hostile name in a setting is simply not a column.
    let s = settings("NETS_CORE_USER_JSON_FIELDS = ['id\", (SELECT 1) AS \"x']");
    assert!(matches!(UserTable::load(&db, &s).await, Err(UserTableError::UnknownColumn { .. })));
    UserTable::load(&db, &app_settings()).await.unwrap();
}

#[tokio::test]
async fn profiles_show_only_configured_fields_with_their_json_types() {
    let db = users_db().await;
    let users = UserTable::load(&db, &app_settings()).await.unwrap();
    assert_eq!(
        profile(&users, &db, 1).await,
        json!({"id": 1, "email": "ada@example.com", "first_name": "Ada", "age": null, "newsletter": false})
    );
    let some = users.to_json(&db, 2, Some(&["first_name", "id"])).await.unwrap().unwrap();
    assert_eq!(Value::Object(some), json!({"first_name": "Bob", "id": 2}));
    assert!(users.to_json(&db, 99, None).await.unwrap().is_none());
    for name in ["is_superuser", "password", "last_name", "id\" FROM nets_access_token --", "user_id"] {
        let err = users.to_json(&db, 1, Some(&["id", name])).await.unwrap_err();
        assert_eq!(err.status().as_u16(), 400, "{name}");
        assert_eq!(err.to_string(), format!("invalid value for parameter 'fields': unknown field '{name}'"));
    }
}

#[tokio::test]
async fn updates_coerce_string_encoded_values_and_record_history() {
    let db = users_db().await;
    let users = UserTable::load(&db, &app_settings()).await.unwrap();
    let cx = CoerceCx::default();
    let changed =
        users.update(&db, 1, &changes(json!({"age": "42", "newsletter": "true", "first_name": "Ada"})), &cx).await;
    assert_eq!(changed.unwrap(), ["age", "newsletter"], "first_name did not change");
    assert_eq!(
        profile(&users, &db, 1).await,
        json!({"id": 1, "email": "ada@example.com", "first_name": "Ada", "age": 42, "newsletter": true})
    );
    let history: String = match &*db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar("SELECT updated_fields FROM nets_user WHERE id = 1").fetch_one(pool).await
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT updated_fields::text FROM nets_user WHERE id = 1").fetch_one(pool).await
        }
    }
    .unwrap();
    let history: Value = serde_json::from_str(&history).unwrap();
    assert_eq!((&history["age"][0]["old"], &history["age"][0]["new"]), (&json!(null), &json!(42)));
    assert_eq!(history["newsletter"][0]["new"], json!(true));
    // Nullable columns take null; NOT NULL ones refuse it.
    assert_eq!(users.update(&db, 1, &changes(json!({"age": null})), &cx).await.unwrap(), ["age"]);
    let err = users.update(&db, 1, &changes(json!({"first_name": null})), &cx).await.unwrap_err();
    assert_eq!(err.status().as_u16(), 400);
}

#[tokio::test]
async fn forbidden_or_bad_fields_are_400s_and_nothing_is_written() {
    let db = users_db().await;
    let users = UserTable::load(&db, &app_settings()).await.unwrap();
    let cx = CoerceCx::default();
    let before = profile(&users, &db, 1).await;
    for body in [
        json!({"first_name": "Eve", "is_superuser": true}),
        json!({"first_name": "Eve", "id": 2}),
        json!({"first_name": "Eve", "email": "eve@example.com"}),
        json!({"first_name": "Eve", "age": "forty"}),
        json!({"first_name": "Eve", "newsletter": "maybe"}),
        json!({"first_name = 'x', is_superuser": true}),
    ] {
        let err = users.update(&db, 1, &changes(body.clone()), &cx).await.unwrap_err();
        let ApiError::BadRequest { errors, .. } = &err else { panic!("{body}: {err:?}") };
        assert!(!errors.contains_key("first_name"), "only the bad field is named: {errors:?}");
        assert_eq!(profile(&users, &db, 1).await, before, "{body} wrote something");
    }
    let superuser: bool = match &*db {
        Db::Sqlite(pool) => sqlx::query_scalar("SELECT is_superuser FROM nets_user WHERE id = 1").fetch_one(pool).await,
        Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT is_superuser FROM nets_user WHERE id = 1").fetch_one(pool).await
        }
    }
    .unwrap();
    assert!(!superuser);
    let err = users.update(&db, 99, &changes(json!({"first_name": "Ghost"})), &cx).await.unwrap_err();
    assert!(matches!(err, ApiError::NotFound));
}

#[tokio::test]
async fn file_fields_must_be_writable_text_columns_that_clients_cannot_set() {
    let db = users_db().await;
    exec(&db, "ALTER TABLE nets_user ADD COLUMN avatar VARCHAR(255)").await;
    let file_fields = |fields: &str| settings(&format!("NETS_CORE_USER_FILE_FIELDS = [{fields}]"));
    let users = UserTable::load(&db, &file_fields("'avatar'")).await.unwrap();
    assert_eq!(users.file_fields().collect::<Vec<_>>(), ["avatar"]);
    assert_eq!(UserTable::load(&db, &settings("")).await.unwrap().file_fields().count(), 0, "none by default");

    let err = UserTable::load(&db, &file_fields("'photo'")).await.unwrap_err();
    assert!(
        matches!(&err, UserTableError::UnknownColumn { setting: "NETS_CORE_USER_FILE_FIELDS", name, .. } if name == "photo"),
        "{err}"
    );
    let err = UserTable::load(&db, &file_fields("'age'")).await.unwrap_err();
    assert!(matches!(&err, UserTableError::FileFieldNotText { name, .. } if name == "age"), "{err}");
    assert!(err.to_string().contains("must be a text column"), "{err}");
    // Updatable too would let a client write any path into it.
    let both = settings("NETS_CORE_USER_FILE_FIELDS = ['avatar']\nNETS_CORE_USER_UPDATABLE_FIELDS = ['avatar']");
    let err = UserTable::load(&db, &both).await.unwrap_err();
    assert!(
        matches!(&err, UserTableError::Refused { setting: "NETS_CORE_USER_FILE_FIELDS", name, .. } if name == "avatar"),
        "{err}"
    );
    assert!(err.to_string().contains("NETS_CORE_USER_UPDATABLE_FIELDS"), "{err}");
    // Identity, privilege and protected columns never.
    for field in ["email", "username", "is_staff", "updated_fields"] {
        let err = UserTable::load(&db, &file_fields(&format!("'{field}'"))).await.unwrap_err();
        assert!(matches!(&err, UserTableError::Refused { name, .. } if name == field), "{field}: {err}");
    }
    let protected = settings("NETS_CORE_USER_FILE_FIELDS = ['avatar']\nNETS_CORE_PROTECTED_FIELDS = ['avatar']");
    assert!(matches!(UserTable::load(&db, &protected).await, Err(UserTableError::Refused { .. })));
    let types = settings("NETS_CORE_USER_FILE_FIELDS = ['avatar']\nNETS_CORE_USER_FILE_TYPES = ['png']");
    let err = UserTable::load(&db, &types).await.unwrap_err();
    assert!(matches!(&err, UserTableError::Refused { setting: "NETS_CORE_USER_FILE_TYPES", .. }), "{err}");
}

/// Users created from code (issue 17: `create_user`, `create_superuser`).
#[tokio::test]
async fn users_are_created_from_code_once_per_address_and_username() {
    use nets_runtime::Email;
    use nets_runtime::users::{CreateUserError, NewUser, create_superuser, create_user};
    let db = test_db().await;
    let email = |a: &str| Email::parse(a).expect("an address");
    let ada = create_user(&db.db, NewUser::new(email("ada@example.com"))).await.unwrap();
    let id =
        create_user(&db.db, NewUser::new(email("Cleo@Example.com")).username("cleo").first_name("Cleo").verified())
            .await
            .unwrap();
    let users = UserTable::load(&db.db, &Settings::default()).await.unwrap();
    let json = profile(&users, &db.db, id).await;
    assert_eq!((&json["email"], &json["first_name"]), (&json!("cleo@example.com"), &json!("Cleo")));
    // The same address (any case) or username: refused, nothing changed.
    let again = create_user(&db.db, NewUser::new(email("CLEO@example.com"))).await;
    assert!(matches!(again, Err(CreateUserError::Exists)), "{again:?}");
    let taken = create_user(&db.db, NewUser::new(email("other@example.com")).username("CLEO")).await;
    assert!(matches!(taken, Err(CreateUserError::Exists)), "{taken:?}");
    let blank = create_user(&db.db, NewUser::new(email("blank@example.com")).username("  ")).await;
    assert!(matches!(blank, Err(CreateUserError::Username)), "{blank:?}");
    // A superuser: created, or an existing account promoted.
    let (promoted, created) = create_superuser(&db.db, email("ada@example.com"), None).await.unwrap();
    assert_eq!((promoted, created), (ada, false));
    let (root, created) = create_superuser(&db.db, email("root@example.com"), Some("root".into())).await.unwrap();
    assert!(created && root != ada && root != id);
    let flags: Vec<(bool, bool)> = nets_runtime::on_pool!(&db.db, |pool| sqlx::query_as(
        "SELECT is_superuser, is_staff FROM nets_user WHERE id IN ($1, $2) ORDER BY id"
    )
    .bind(ada)
    .bind(root)
    .fetch_all(pool)
    .await
    .unwrap());
    assert_eq!(flags, [(true, true), (true, true)]);
    let clash = create_superuser(&db.db, email("new@example.com"), Some("Root".into())).await;
    assert!(matches!(clash, Err(CreateUserError::Exists)), "a taken username: {clash:?}");
}
