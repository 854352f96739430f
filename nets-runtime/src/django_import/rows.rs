//! What is read from django-nets-core 0.2.30 and django-oauth-toolkit tables, one
//! statement per table (`SEED_BEHAVIOR.md` §5.1, §6.5; DOT's `oauth2_provider_*`).

use super::ImportError;
use super::source::{Source, flag};

/// A user of the `AUTH_USER_MODEL` table.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct User {
    pub id: i64,
    pub email: Option<String>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_active: i64,
    pub is_staff: i64,
    pub is_superuser: i64,
    pub email_verified: i64,
    pub last_login: Option<String>,
    pub date_joined: Option<String>,
}

/// Reads the user table `table` (a checked identifier). `username`, the names,
/// `is_staff`, `email_verified` and `date_joined` are optional columns of a custom user
/// model: absent ones read as empty/false.
pub(crate) async fn users(source: &Source, table: &str) -> Result<Vec<User>, ImportError> {
    let columns = source.columns(table).await?;
    if columns.is_empty() {
        return Err(ImportError::Source(format!("the user table {table} does not exist (see --user-table)")));
    }
    for required in ["id", "email", "is_active", "is_superuser"] {
        if !columns.iter().any(|c| c == required) {
            return Err(ImportError::Source(format!("the user table {table} has no {required} column")));
        }
    }
    let has = |c: &str| columns.iter().any(|have| have == c);
    let text = |c: &str| if has(c) { format!("CAST({c} AS TEXT)") } else { "CAST(NULL AS TEXT)".to_owned() };
    let boolean =
        |c: &str| if has(c) { format!("CAST(CAST({c} AS INTEGER) AS BIGINT)") } else { "CAST(0 AS BIGINT)".to_owned() };
    let sql = format!(
        "SELECT CAST(id AS BIGINT) AS id, CAST(email AS TEXT) AS email, {} AS username, {} AS first_name, \
         {} AS last_name, {} AS is_active, {} AS is_staff, {} AS is_superuser, {} AS email_verified, \
         {} AS last_login, {} AS date_joined FROM \"{table}\" ORDER BY id",
        text("username"),
        text("first_name"),
        text("last_name"),
        boolean("is_active"),
        boolean("is_staff"),
        boolean("is_superuser"),
        boolean("email_verified"),
        text("last_login"),
        text("date_joined"),
    );
    source.rows(&sql).await
}

/// A row of `nets_core_user_device`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Device {
    pub uuid: String,
    pub user_id: i64,
    pub name: Option<String>,
    pub os: Option<String>,
    pub os_version: Option<String>,
    pub app_version: Option<String>,
    pub device_type: Option<String>,
    pub firebase_token: Option<String>,
    pub active: i64,
    pub ip: Option<String>,
    pub last_login: Option<String>,
}

pub(crate) async fn devices(source: &Source) -> Result<Vec<Device>, ImportError> {
    const SQL: &str = concat!(
        "SELECT CAST(uuid AS TEXT) AS uuid, CAST(user_id AS BIGINT) AS user_id, CAST(name AS TEXT) AS name, ",
        "CAST(os AS TEXT) AS os, CAST(os_version AS TEXT) AS os_version, CAST(app_version AS TEXT) AS app_version, ",
        "CAST(device_type AS TEXT) AS device_type, CAST(firebase_token AS TEXT) AS firebase_token, ",
        flag!("active"),
        " AS active, CAST(ip AS TEXT) AS ip, CAST(last_login AS TEXT) AS last_login ",
        "FROM nets_core_user_device ORDER BY id"
    );
    source.rows(SQL).await
}

/// A row of DOT's `oauth2_provider_application`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Application {
    pub client_id: String,
    pub client_secret: Option<String>,
    /// DOT's `hash_client_secret`: 1 the column holds `make_password(secret)`, 0 the
    /// secret itself, -1 the column does not exist (DOT < 2: plaintext).
    pub hashed: i64,
    pub client_type: String,
    pub name: Option<String>,
}

pub(crate) async fn applications(source: &Source) -> Result<Vec<Application>, ImportError> {
    const WITH_FLAG: &str = concat!(
        "SELECT CAST(client_id AS TEXT) AS client_id, CAST(client_secret AS TEXT) AS client_secret, ",
        flag!("hash_client_secret"),
        " AS hashed, CAST(client_type AS TEXT) AS client_type, CAST(name AS TEXT) AS name ",
        "FROM oauth2_provider_application ORDER BY id"
    );
    const WITHOUT: &str = "SELECT CAST(client_id AS TEXT) AS client_id, CAST(client_secret AS TEXT) AS client_secret, \
                           CAST(-1 AS BIGINT) AS hashed, CAST(client_type AS TEXT) AS client_type, \
                           CAST(name AS TEXT) AS name FROM oauth2_provider_application ORDER BY id";
    let columns = source.columns("oauth2_provider_application").await?;
    source.rows(if columns.iter().any(|c| c == "hash_client_secret") { WITH_FLAG } else { WITHOUT }).await
}

/// A row of `nets_core_permission`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Permission {
    pub id: i64,
    pub codename: String,
    pub name: Option<String>,
    pub description: Option<String>,
}

pub(crate) async fn permissions(source: &Source) -> Result<Vec<Permission>, ImportError> {
    const SQL: &str = "SELECT CAST(id AS BIGINT) AS id, CAST(codename AS TEXT) AS codename, CAST(name AS TEXT) AS name, \
                       CAST(description AS TEXT) AS description FROM nets_core_permission ORDER BY id";
    source.rows(SQL).await
}

/// A row of `nets_core_role`, with the table its project lives in (`app_label_model`,
/// Django's default table name of the content type).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Role {
    pub id: i64,
    pub name: Option<String>,
    pub codename: Option<String>,
    pub description: Option<String>,
    pub enabled: i64,
    pub project_id: Option<i64>,
    pub project_table: Option<String>,
}

pub(crate) async fn roles(source: &Source) -> Result<Vec<Role>, ImportError> {
    const SQL: &str = concat!(
        "SELECT CAST(r.id AS BIGINT) AS id, CAST(r.name AS TEXT) AS name, CAST(r.codename AS TEXT) AS codename, ",
        "CAST(r.description AS TEXT) AS description, ",
        flag!("r.enabled"),
        " AS enabled, CAST(r.project_id AS BIGINT) AS project_id, ",
        "CAST(ct.app_label || '_' || ct.model AS TEXT) AS project_table ",
        "FROM nets_core_role r LEFT JOIN django_content_type ct ON ct.id = r.project_content_type_id ORDER BY r.id"
    );
    source.rows(SQL).await
}

/// A row of `nets_core_role_permission`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RolePermission {
    pub role_id: i64,
    pub permission_id: i64,
    pub custom_name: Option<String>,
}

pub(crate) async fn role_permissions(source: &Source) -> Result<Vec<RolePermission>, ImportError> {
    const SQL: &str = "SELECT CAST(role_id AS BIGINT) AS role_id, CAST(permission_id AS BIGINT) AS permission_id, \
                       CAST(custom_name AS TEXT) AS custom_name FROM nets_core_role_permission ORDER BY id";
    source.rows(SQL).await
}

/// A row of `nets_core_user_role`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRole {
    pub user_id: i64,
    pub role_id: i64,
    pub project_id: Option<i64>,
    pub project_table: Option<String>,
}

pub(crate) async fn user_roles(source: &Source) -> Result<Vec<UserRole>, ImportError> {
    const SQL: &str = "SELECT CAST(ur.user_id AS BIGINT) AS user_id, CAST(ur.role_id AS BIGINT) AS role_id, \
                       CAST(ur.project_id AS BIGINT) AS project_id, \
                       CAST(ct.app_label || '_' || ct.model AS TEXT) AS project_table \
                       FROM nets_core_user_role ur \
                       LEFT JOIN django_content_type ct ON ct.id = ur.project_content_type_id ORDER BY ur.id";
    source.rows(SQL).await
}

/// A row of `nets_core_email_template`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Template {
    pub name: String,
    pub html_body: Option<String>,
    pub text_body: Option<String>,
    pub enabled: i64,
    pub use_for: Option<String>,
    pub user_id: Option<i64>,
    pub project_id: Option<i64>,
    pub project_table: Option<String>,
}

pub(crate) async fn templates(source: &Source) -> Result<Vec<Template>, ImportError> {
    const SQL: &str = concat!(
        "SELECT CAST(t.name AS TEXT) AS name, CAST(t.html_body AS TEXT) AS html_body, ",
        "CAST(t.text_body AS TEXT) AS text_body, ",
        flag!("t.enabled"),
        " AS enabled, CAST(t.use_for AS TEXT) AS use_for, CAST(t.user_id AS BIGINT) AS user_id, ",
        "CAST(t.project_id AS BIGINT) AS project_id, CAST(ct.app_label || '_' || ct.model AS TEXT) AS project_table ",
        "FROM nets_core_email_template t LEFT JOIN django_content_type ct ON ct.id = t.project_content_type_id ",
        "ORDER BY t.id"
    );
    source.rows(SQL).await
}

/// An access token of DOT (plaintext there), with its application's client id and the
/// refresh token issued with it, if any is still usable.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Token {
    pub token: String,
    pub user_id: i64,
    pub client_id: String,
    pub expires: Option<String>,
    pub scope: Option<String>,
    pub refresh_token: Option<String>,
}

pub(crate) async fn tokens(source: &Source) -> Result<Vec<Token>, ImportError> {
    const SQL: &str = "SELECT CAST(a.token AS TEXT) AS token, CAST(a.user_id AS BIGINT) AS user_id, \
                       CAST(app.client_id AS TEXT) AS client_id, CAST(a.expires AS TEXT) AS expires, \
                       CAST(a.scope AS TEXT) AS scope, CAST(r.token AS TEXT) AS refresh_token \
                       FROM oauth2_provider_accesstoken a \
                       JOIN oauth2_provider_application app ON app.id = a.application_id \
                       LEFT JOIN oauth2_provider_refreshtoken r ON r.access_token_id = a.id AND r.revoked IS NULL \
                       WHERE a.user_id IS NOT NULL ORDER BY a.id";
    source.rows(SQL).await
}
