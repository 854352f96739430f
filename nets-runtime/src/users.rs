//! The user table, `nets_user`, as the application configures it: the login identifier,
//! the JSON-visible fields and the fields a user may update.
//!
//! The table is the application's to extend (`ALTER TABLE nets_user ADD COLUMN ..` in its
//! own migrations). Settings name the fields; [`UserTable::load`] checks each name
//! against the columns the database really has, at startup. A client's field name is
//! then accepted only when it is one of those checked names, so SQL is never built from
//! client text (the original's `/getProfile/` let a crafted field name read every access
//! token, and its `/update/` let `{"is_superuser": true}` through: SEED §7.4, §7.5).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use nets_runtime::users::UserTable;
//! use nets_runtime::{Settings, db::Db};
//!
//! let settings = Settings::from_toml("NETS_CORE_USER_UPDATABLE_FIELDS = ['first_name', 'nickname']")?;
//! let db = Db::from_settings(&settings).await?;
//! let users = UserTable::load(&db, &settings).await?; // fails if `nickname` is no column
//! let profile = users.to_json(&db, 1, Some(&["id", "first_name"])).await?;
//! # Ok(()) }
//! ```

// The field lists `/update/` and the file fields use are read by the account endpoints.
#![cfg_attr(not(feature = "accounts"), allow(dead_code))]

mod create;

use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

pub use create::{CreateUserError, NewUser, create_superuser, create_user};

use crate::db::Db;
use crate::model::update::{Binder, Dialect, push_history};
use crate::params::{CoerceCx, FromParam, Raw, UploadedFile, type_allowed};
pub use crate::settings::Identifier;
use crate::{ApiError, Settings};

/// Columns no setting can make updatable by users: identity, privileges, and what the
/// runtime maintains.
pub const NEVER_UPDATABLE: &[&str] = &[
    "id",
    "email",
    "username",
    "password",
    "is_active",
    "is_staff",
    "is_superuser",
    "email_verified",
    "last_login",
    "date_joined",
    "created",
    "updated",
    "updated_fields",
];

/// A configured user field that does not fit the table.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserTableError {
    /// A setting names a column `nets_user` does not have.
    #[error("{setting} names '{name}', which is not a column of nets_user (its columns: {columns})")]
    UnknownColumn {
        /// The setting.
        setting: &'static str,
        /// The name.
        name: String,
        /// The table's columns, comma-separated.
        columns: String,
    },
    /// A setting names a protected or never-updatable column.
    #[error("{setting} cannot include '{name}': {why}")]
    Refused {
        /// The setting.
        setting: &'static str,
        /// The name.
        name: String,
        /// Why.
        why: &'static str,
    },
    /// A file field is not a text column (it holds the stored file's path).
    #[error(
        "NETS_CORE_USER_FILE_FIELDS names nets_user.{name} of type '{sql_type}': a file field holds the stored \
         file's path, so it must be a text column (VARCHAR or TEXT)"
    )]
    FileFieldNotText {
        /// The column.
        name: String,
        /// Its declared type.
        sql_type: String,
    },
    /// An updatable column has a type nets cannot write from JSON.
    #[error("nets_user.{name} has type '{sql_type}', which nets cannot update from a request")]
    UnsupportedType {
        /// The column.
        name: String,
        /// Its declared type.
        sql_type: String,
    },
    /// The catalogue could not be read.
    #[error("could not read the columns of nets_user: {0}")]
    Db(#[from] sqlx::Error),
}

/// How a column's values are read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Integer,
    Bool,
    Float,
    Timestamp,
    Json,
    Other,
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    sql_type: String,
    kind: Kind,
    nullable: bool,
    /// The declared length of a `VARCHAR(n)`, `None` when unbounded.
    max_chars: Option<usize>,
}

/// The checked field lists of the user table. Load once at startup and share (for
/// example as app state: `AppBuilder::state(users)`).
#[derive(Debug, Clone)]
pub struct UserTable {
    identifier: Identifier,
    json_fields: Vec<Column>,
    updatable: Vec<Column>,
    files: FileRules,
    /// Every column name of `nets_user`: `/update/` ignores keys that are none of them.
    columns: Vec<String>,
    /// `NETS_CORE_PROTECTED_FIELDS`: never ignored by `/update/`, column or not.
    protected: Vec<String>,
    /// The statements answering the whole profile as finished JSON text, written once at
    /// start-up (SQLite, PostgreSQL): `/getProfile/`'s one query, nothing parsed.
    profile_sql: [String; 2],
}

/// The file fields and what an upload to them may be.
#[derive(Debug, Clone)]
struct FileRules {
    fields: Vec<Column>,
    /// `NETS_CORE_USER_FILE_TYPES`
    types: Vec<String>,
    /// `NETS_CORE_USER_FILE_MAX_BYTES`
    max_bytes: usize,
}

const JSON_FIELDS: &str = "NETS_CORE_USER_JSON_FIELDS";
const UPDATABLE_FIELDS: &str = "NETS_CORE_USER_UPDATABLE_FIELDS";
const FILE_FIELDS: &str = "NETS_CORE_USER_FILE_FIELDS";
const FILE_TYPES: &str = "NETS_CORE_USER_FILE_TYPES";

/// The real columns of `nets_user`, against which the settings' names are checked.
struct Catalogue<'a> {
    columns: Vec<Column>,
    settings: &'a Settings,
}

impl Catalogue<'_> {
    fn find(&self, setting: &'static str, name: &str) -> Result<Column, UserTableError> {
        self.columns.iter().find(|c| c.name == name).cloned().ok_or_else(|| UserTableError::UnknownColumn {
            setting,
            name: name.to_owned(),
            columns: self.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "),
        })
    }

    /// Refuses protected names (`setting` is the list naming `name`).
    fn not_protected(&self, setting: &'static str, name: &str) -> Result<(), UserTableError> {
        match self.settings.protected_fields.iter().any(|p| p.eq_ignore_ascii_case(name)) {
            true => Err(refused(setting, name, "it is in NETS_CORE_PROTECTED_FIELDS")),
            false => Ok(()),
        }
    }

    /// Refuses protected and never-updatable names.
    fn writable(&self, setting: &'static str, name: &str) -> Result<Column, UserTableError> {
        let column = self.find(setting, name)?;
        if NEVER_UPDATABLE.contains(&name) {
            return Err(refused(
                setting,
                name,
                "identity, privilege and runtime-maintained columns are never updatable",
            ));
        }
        self.not_protected(setting, name)?;
        Ok(column)
    }

    fn json_field(&self, name: &str) -> Result<Column, UserTableError> {
        let column = self.find(JSON_FIELDS, name)?;
        self.not_protected(JSON_FIELDS, name)?;
        Ok(column)
    }

    fn updatable_field(&self, name: &str) -> Result<Column, UserTableError> {
        let column = self.writable(UPDATABLE_FIELDS, name)?;
        match column.kind {
            Kind::Other => Err(UserTableError::UnsupportedType { name: name.to_owned(), sql_type: column.sql_type }),
            _ => Ok(column),
        }
    }

    /// A file field holds the path nets stored the upload at: a text column that clients
    /// can never write directly (else `../../etc/passwd` could be stored as a path).
    fn file_field(&self, name: &str) -> Result<Column, UserTableError> {
        let column = self.writable(FILE_FIELDS, name)?;
        if self.settings.user_updatable_fields.iter().any(|u| u == name) {
            let why = "it is also in NETS_CORE_USER_UPDATABLE_FIELDS, which would let a client store any text as the \
                       file's path";
            return Err(refused(FILE_FIELDS, name, why));
        }
        match column.kind {
            Kind::Text => Ok(column),
            _ => Err(UserTableError::FileFieldNotText { name: name.to_owned(), sql_type: column.sql_type }),
        }
    }

    fn file_rules(&self) -> Result<FileRules, UserTableError> {
        let fields = self.settings.user_file_fields.iter().map(|n| self.file_field(n)).collect::<Result<_, _>>()?;
        let types = self.settings.user_file_types.clone();
        if let Some(bad) = types.iter().find(|t| !is_type_pattern(t)) {
            return Err(refused(FILE_TYPES, bad, "not a content type such as 'image/png' or 'image/*'"));
        }
        Ok(FileRules { fields, types, max_bytes: self.settings.user_file_max_bytes })
    }
}

fn refused(setting: &'static str, name: &str, why: &'static str) -> UserTableError {
    UserTableError::Refused { setting, name: name.to_owned(), why }
}

/// `major/minor` or `major/*` (or `*/*`), without spaces or parameters.
fn is_type_pattern(pattern: &str) -> bool {
    let valid = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_graphic() && b != b'/' && b != b';');
    pattern.split_once('/').is_some_and(|(major, minor)| valid(major) && valid(minor))
}

impl UserTable {
    /// Reads the columns of `nets_user` and checks `NETS_CORE_USER_JSON_FIELDS`,
    /// `NETS_CORE_USER_UPDATABLE_FIELDS` and `NETS_CORE_USER_FILE_FIELDS` against them:
    /// every name must be a column; protected names (`NETS_CORE_PROTECTED_FIELDS`) are
    /// never visible nor writable; identity, privilege and runtime columns
    /// ([`NEVER_UPDATABLE`]) are never writable; a file field is a text column that is not
    /// also updatable (its value is always a path nets chose); `NETS_CORE_USER_FILE_TYPES`
    /// holds content types.
    pub async fn load(db: &Db, settings: &Settings) -> Result<UserTable, UserTableError> {
        let table = Catalogue { columns: table_columns(db).await?, settings };
        let json_fields: Vec<Column> =
            settings.user_json_fields.iter().map(|n| table.json_field(n)).collect::<Result<_, _>>()?;
        let updatable =
            settings.user_updatable_fields.iter().map(|n| table.updatable_field(n)).collect::<Result<_, _>>()?;
        let files = table.file_rules()?;
        let columns = table.columns.iter().map(|c| c.name.clone()).collect();
        let protected = settings.protected_fields.clone();
        let profile_sql = json_statements(json_fields.iter());
        Ok(UserTable {
            identifier: settings.user_identifier,
            json_fields,
            updatable,
            files,
            columns,
            protected,
            profile_sql,
        })
    }

    /// The login identifier.
    pub fn identifier(&self) -> Identifier {
        self.identifier
    }

    /// The JSON-visible fields, in configured order.
    pub fn json_fields(&self) -> impl Iterator<Item = &str> {
        self.json_fields.iter().map(|c| c.name.as_str())
    }

    /// The updatable fields with the JSON Schema of the values accepted for each (typed
    /// values, or the same JSON-encoded in a string, as clients send them).
    pub(crate) fn updatable_schemas(&self) -> impl Iterator<Item = (&str, Value)> {
        self.updatable.iter().map(|c| {
            let types: &[&str] = match c.kind {
                Kind::Text => &["string"],
                Kind::Integer => &["integer", "string"],
                Kind::Float => &["number", "string"],
                Kind::Bool => &["boolean", "string"],
                Kind::Timestamp => &["string"],
                Kind::Json | Kind::Other => &["object", "array", "string", "number", "boolean"],
            };
            let mut types: Vec<&str> = types.to_vec();
            if c.nullable {
                types.push("null");
            }
            let mut schema = json!({"type": types});
            if c.kind == Kind::Timestamp {
                schema["format"] = json!("date-time");
            }
            (c.name.as_str(), schema)
        })
    }

    /// The updatable fields, in configured order.
    pub fn updatable_fields(&self) -> impl Iterator<Item = &str> {
        self.updatable.iter().map(|c| c.name.as_str())
    }

    /// The file fields (`NETS_CORE_USER_FILE_FIELDS`), in configured order.
    pub fn file_fields(&self) -> impl Iterator<Item = &str> {
        self.files.fields.iter().map(|c| c.name.as_str())
    }

    /// The largest file a file field takes (`NETS_CORE_USER_FILE_MAX_BYTES`).
    #[cfg(feature = "social")]
    pub(crate) fn max_file_bytes(&self) -> usize {
        self.files.max_bytes
    }

    /// The stored path in file field `field` of user `user_id` (`None`: no such field or
    /// user, or the field is empty), whether or not the field is JSON-visible.
    #[cfg(feature = "social")]
    pub(crate) async fn stored_file(&self, db: &Db, user_id: i64, field: &str) -> Result<Option<String>, ApiError> {
        let Some(column) = self.files.fields.iter().find(|c| c.name == field) else { return Ok(None) };
        let json = read_json(db, user_id, &[column]).await?;
        Ok(json.and_then(|mut m| m.remove(field)).and_then(|v| v.as_str().map(str::to_owned)).filter(|p| !p.is_empty()))
    }

    /// No changes yet, for a writer that sets files only.
    #[cfg(feature = "social")]
    pub(crate) fn no_changes(&self) -> UserChanges<'_> {
        UserChanges { values: Vec::new() }
    }

    /// The most bytes of files one update can carry: one largest file per file field.
    pub(crate) fn max_upload_bytes(&self) -> usize {
        self.files.max_bytes.saturating_mul(self.files.fields.len())
    }

    /// User `user_id` as JSON: `fields` (each must be a JSON-visible field, else a 400
    /// `unknown field`) or every JSON-visible field (also for `["__all__"]`). `None` when
    /// there is no such user.
    pub async fn to_json(
        &self,
        db: &Db,
        user_id: i64,
        fields: Option<&[&str]>,
    ) -> Result<Option<Map<String, Value>>, ApiError> {
        let selected: Vec<&Column> = match fields {
            // `["__all__"]`, as nets' models and the original take it: every field the
            // account JSON may show (never a protected one).
            None | Some([]) | Some(["__all__"]) => self.json_fields.iter().collect(),
            Some(names) => {
                let mut out: Vec<&Column> = Vec::with_capacity(names.len());
                for &name in names {
                    let column = self.json_fields.iter().find(|c| c.name == name);
                    let column = column.ok_or_else(|| ApiError::field("fields", format!("unknown field '{name}'")))?;
                    if !out.iter().any(|c| c.name == name) {
                        out.push(column);
                    }
                }
                out
            }
        };
        if selected.is_empty() {
            return Ok(Some(Map::new()));
        }
        read_json(db, user_id, &selected).await
    }

    /// The JSON-visible fields of user `user_id` as finished JSON text (`None`: no such
    /// user): [`to_json`](Self::to_json) with every field, in one prepared statement
    /// whose answer goes to the client as it is.
    pub async fn profile_json(&self, db: &Db, user_id: i64) -> Result<Option<Box<RawValue>>, ApiError> {
        let text = json_text(db, &self.profile_sql, user_id).await?;
        text.map(|t| RawValue::from_string(t).map_err(ApiError::internal)).transpose()
    }

    /// Writes the updatable fields present in `changes` for user `user_id`, with
    /// string-encoded values accepted (`"5"`, `"true"`), `updated` set and each change
    /// appended to `updated_fields`. A key that is not an updatable field, or a value of
    /// the wrong type, is a 400 naming it, and nothing is written. Returns the names of the
    /// fields whose value changed.
    pub async fn update(
        &self,
        db: &Db,
        user_id: i64,
        changes: &Map<String, Value>,
        coerce: &CoerceCx,
    ) -> Result<Vec<String>, ApiError> {
        let mut errors = crate::FieldErrors::new();
        let checked = self.check_values(changes, &[], coerce, &mut errors);
        if !errors.is_empty() {
            return Err(invalid_fields(errors));
        }
        self.write(db, user_id, checked).await
    }

    /// The keys of `sent` an update ignores, as serializer frameworks do, so that a
    /// client posting its whole cached profile back keeps its real change: names that are
    /// no column of `nets_user` (and no file field), and JSON-visible read-only columns
    /// sent with the value they hold (`email` unchanged). A visible column sent with
    /// another value, a column the user cannot see (`is_superuser`), or a protected name
    /// (`password`, column or not) is not ignored, so the update refuses it: protected
    /// columns are never compared, which would answer guesses of their values. Sorted.
    pub(crate) async fn ignorable<'a>(
        &self,
        db: &Db,
        user_id: i64,
        sent: &'a Map<String, Value>,
        coerce: &CoerceCx,
    ) -> Result<Vec<&'a str>, ApiError> {
        let writable = |name: &str| {
            self.updatable.iter().any(|c| c.name == name) || self.files.fields.iter().any(|c| c.name == name)
        };
        let mut ignored = Vec::new();
        let mut shown = Vec::new();
        let protected = |name: &str| self.protected.iter().any(|p| p.eq_ignore_ascii_case(name));
        for name in sent.keys().filter(|name| !writable(name) && !protected(name)) {
            if !self.columns.iter().any(|c| c == name) {
                ignored.push(name.as_str());
            } else if let Some(column) = self.json_fields.iter().find(|c| &c.name == name) {
                shown.push((name.as_str(), column));
            }
        }
        if shown.is_empty() {
            return Ok(ignored);
        }
        let columns: Vec<&Column> = shown.iter().map(|(_, column)| *column).collect();
        let current = read_json(db, user_id, &columns).await?.unwrap_or_default();
        for (name, column) in shown {
            let held = current.get(name).unwrap_or(&Value::Null);
            if sent.get(name).is_some_and(|value| same_value(column, value, held, coerce)) {
                ignored.push(name);
            }
        }
        ignored.sort_unstable();
        Ok(ignored)
    }

    /// The first half of [`update`](Self::update): coerces each change to its column's
    /// type, recording a problem in `errors` for each field that cannot take its value.
    /// Names in `skip` ([`ignorable`](Self::ignorable)) are left out.
    pub(crate) fn check_values(
        &self,
        changes: &Map<String, Value>,
        skip: &[&str],
        coerce: &CoerceCx,
        errors: &mut crate::FieldErrors,
    ) -> UserChanges<'_> {
        let mut values = Vec::with_capacity(changes.len());
        for (name, value) in changes.iter().filter(|(name, _)| !skip.contains(&name.as_str())) {
            let problem = if self.files.fields.iter().any(|c| &c.name == name) {
                "upload a file (multipart/form-data) to change this field".to_owned()
            } else if let Some(column) = self.updatable.iter().find(|c| &c.name == name) {
                match coerce_value(column, value, coerce) {
                    Ok(value) => {
                        values.push((column, value));
                        continue;
                    }
                    Err(problem) => problem,
                }
            } else {
                "this field cannot be updated".to_owned()
            };
            errors.entry(name.clone()).or_default().push(problem);
        }
        UserChanges { values }
    }

    /// Whether `file` may be stored in the file field `name`: the field exists, and the
    /// file's sniffed content type and size are allowed. The problem otherwise.
    pub(crate) fn check_file(&self, name: &str, file: &UploadedFile) -> Result<FileField<'_>, String> {
        let Some(column) = self.files.fields.iter().find(|c| c.name == name) else {
            return Err("this field does not take a file".into());
        };
        if file.len() > self.files.max_bytes {
            return Err(format!("the file is too large (at most {} bytes)", self.files.max_bytes));
        }
        let allowed: Vec<&str> = self.files.types.iter().map(String::as_str).collect();
        if !type_allowed(file.content_type(), &allowed) {
            let (found, allowed) = (file.content_type(), allowed.join(", "));
            return Err(format!("files of type '{found}' are not allowed (allowed: {allowed})"));
        }
        Ok(FileField(column))
    }

    /// The second half of [`update`](Self::update): one `UPDATE` of the values that
    /// differ from the stored ones, with `updated` and the `updated_fields` history.
    pub(crate) async fn write(&self, db: &Db, user_id: i64, changes: UserChanges<'_>) -> Result<Vec<String>, ApiError> {
        let mut values = changes.values;
        let columns: Vec<&Column> = values.iter().map(|(c, _)| *c).collect();
        let Some(current) = read_json(db, user_id, &columns).await? else {
            return Err(ApiError::NotFound);
        };
        values.retain(|(c, v)| current.get(&c.name) != Some(v));
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let names: Vec<&str> = values.iter().map(|(c, _)| c.name.as_str()).collect();
        let history: Vec<Value> = values
            .iter()
            .map(|(c, v)| json!({"old": current.get(&c.name).cloned().unwrap_or(Value::Null), "new": v, "time": time}))
            .collect();
        let done = match db {
            Db::Sqlite(pool) => {
                let mut q = sqlx::QueryBuilder::new("");
                write_user_update(&mut Binder::Sqlite(&mut q), Dialect::Sqlite, user_id, &values, &names, &history);
                q.build().execute(pool).await.map(|done| done.rows_affected())
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => {
                let mut q = sqlx::QueryBuilder::new("");
                write_user_update(&mut Binder::Postgres(&mut q), Dialect::Postgres, user_id, &values, &names, &history);
                q.build().execute(pool).await.map(|done| done.rows_affected())
            }
        };
        match done.map_err(ApiError::internal)? {
            0 => Err(ApiError::NotFound),
            _ => Ok(names.into_iter().map(str::to_owned).collect()),
        }
    }
}

/// Changes checked against the table ([`UserTable::check_values`]), ready to write.
#[derive(Debug)]
pub(crate) struct UserChanges<'t> {
    values: Vec<(&'t Column, Value)>,
}

impl<'t> UserChanges<'t> {
    /// Adds the stored path of an upload accepted for `field`.
    pub(crate) fn set_file(&mut self, field: FileField<'t>, path: String) {
        self.values.push((field.0, Value::String(path)));
    }
}

/// A file field an upload was accepted for ([`UserTable::check_file`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileField<'t>(&'t Column);

impl FileField<'_> {
    /// The column's declared length (`VARCHAR(n)`), which the stored path must fit.
    pub(crate) fn max_chars(&self) -> Option<usize> {
        self.0.max_chars
    }
}

/// One 400 naming every field in `errors`.
pub(crate) fn invalid_fields(errors: crate::FieldErrors) -> ApiError {
    let names = errors.keys().cloned().collect::<Vec<_>>().join(", ");
    ApiError::BadRequest { message: format!("invalid fields: {names}"), errors }
}

fn write_user_update(
    q: &mut Binder<'_>,
    dialect: Dialect,
    user_id: i64,
    values: &[(&Column, Value)],
    names: &[&str],
    history: &[Value],
) {
    q.push("UPDATE \"nets_user\" SET ");
    for (column, value) in values {
        q.push(&format!("\"{}\" = ", column.name));
        bind_json(q, column.kind, value);
        q.push(", ");
    }
    q.push(match dialect {
        Dialect::Sqlite => "\"updated\" = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        Dialect::Postgres => "\"updated\" = now()",
    });
    q.push(", \"updated_fields\" = ");
    push_history(q, names, history, dialect);
    q.push(" WHERE \"id\" = ");
    q.bind(&user_id);
}

/// Binds an already coerced value as its column's type (a `NULL` typed too: PostgreSQL
/// checks a parameter's type against the column's).
fn bind_json(q: &mut Binder<'_>, kind: Kind, value: &Value) {
    match (kind, value) {
        (Kind::Integer, v) => q.bind(&v.as_i64()),
        (Kind::Float, v) => q.bind(&v.as_f64()),
        (Kind::Bool, v) => q.bind(&v.as_bool()),
        (Kind::Json, Value::Null) => q.bind(&Option::<sqlx::types::Json<Value>>::None),
        (Kind::Json, v) => q.bind(&sqlx::types::Json(v)),
        (Kind::Timestamp, v) => {
            let parsed = v.as_str().and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
            q.bind(&parsed.map(|t| t.with_timezone(&chrono::Utc)))
        }
        (Kind::Text | Kind::Other, v) => q.bind(&v.as_str().map(str::to_owned)),
    }
}

/// A request value as the column's JSON type, string-encoded scalars accepted.
fn coerce_value(column: &Column, value: &Value, cx: &CoerceCx) -> Result<Value, String> {
    if value.is_null() || value.as_str().is_some_and(|s| s.trim() == "null") {
        return match column.nullable {
            true => Ok(Value::Null),
            false => Err("this field cannot be null".into()),
        };
    }
    let raw = Raw::Json(value.clone());
    let problem = |e: crate::params::CoerceError| e.to_string();
    match column.kind {
        Kind::Text => String::from_param(raw, cx).map(Value::String).map_err(problem),
        Kind::Integer => i64::from_param(raw, cx).map(Value::from).map_err(problem),
        Kind::Float => f64::from_param(raw, cx).map(Value::from).map_err(problem),
        Kind::Bool => bool::from_param(raw, cx).map(Value::Bool).map_err(problem),
        Kind::Json => Value::from_param(raw, cx).map_err(problem),
        Kind::Timestamp => chrono::DateTime::<chrono::Utc>::from_param(raw, cx)
            .map(|t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)))
            .map_err(problem),
        Kind::Other => Err("this field cannot be updated".into()),
    }
}

/// Whether `sent` (as a client sends it: typed, or JSON-encoded in a string) is the value
/// `held` that `column` has. Timestamps compare as instants, whatever their notation.
fn same_value(column: &Column, sent: &Value, held: &Value, coerce: &CoerceCx) -> bool {
    let Ok(sent) = coerce_value(column, sent, coerce) else { return false };
    if &sent == held {
        return true;
    }
    let instant = |v: &Value| v.as_str().and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
    column.kind == Kind::Timestamp && instant(&sent).is_some() && instant(&sent) == instant(held)
}

/// One row's columns as a JSON object, built by the database.
async fn read_json(db: &Db, user_id: i64, columns: &[&Column]) -> Result<Option<Map<String, Value>>, ApiError> {
    let text = json_text(db, &json_statements(columns.iter().copied()), user_id).await?;
    text.map(|t| serde_json::from_str(&t).map_err(ApiError::internal)).transpose()
}

/// Runs one of [`json_statements`] (the one for `db`'s backend) for `user_id`.
#[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
async fn json_text(db: &Db, statements: &[String; 2], user_id: i64) -> Result<Option<String>, ApiError> {
    let [sqlite, postgres] = statements;
    match db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sqlite.as_str())).bind(user_id).fetch_optional(pool).await
        }
        #[cfg(feature = "postgres")]
        Db::Postgres(pool) => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(postgres.as_str())).bind(user_id).fetch_optional(pool).await
        }
    }
    .map_err(ApiError::internal)
}

/// The statements (SQLite, PostgreSQL) answering one user's `columns` as a JSON object
/// in text, built by the database (`json_object` / `json_build_object`) from the checked
/// column names, with its JSON types: SQLite has no booleans and keeps JSON as text, so
/// those are converted there (a JSON column holding invalid text is `null`).
fn json_statements<'a>(columns: impl Iterator<Item = &'a Column> + Clone) -> [String; 2] {
    let sqlite_value = |c: &Column| match c.kind {
        Kind::Bool => {
            format!("CASE WHEN \"{0}\" IS NULL THEN NULL WHEN \"{0}\" THEN json('true') ELSE json('false') END", c.name)
        }
        Kind::Json => format!("CASE WHEN json_valid(\"{0}\") THEN json(\"{0}\") END", c.name),
        _ => format!("\"{}\"", c.name),
    };
    let sqlite: Vec<String> = columns.clone().map(|c| format!("'{}', {}", c.name, sqlite_value(c))).collect();
    let postgres: Vec<String> = columns.map(|c| format!("'{0}', \"{0}\"", c.name)).collect();
    [
        format!("SELECT json_object({}) FROM \"nets_user\" WHERE \"id\" = ?", sqlite.join(", ")),
        format!("SELECT json_build_object({})::text FROM \"nets_user\" WHERE \"id\" = $1", postgres.join(", ")),
    ]
}

/// The columns of `nets_user`, from the catalogue. Names that are not plain identifiers
/// are left out: nets never quotes arbitrary text into SQL.
async fn table_columns(db: &Db) -> Result<Vec<Column>, sqlx::Error> {
    let rows: Vec<(String, String, bool, Option<i32>)> = match db {
        Db::Sqlite(pool) => {
            let rows: Vec<(String, String, bool)> =
                sqlx::query_as("SELECT name, type, \"notnull\" = 0 FROM pragma_table_info('nets_user') ORDER BY cid")
                    .fetch_all(pool)
                    .await?;
            rows.into_iter()
                .map(|(name, sql_type, nullable)| {
                    let length = declared_length(&sql_type);
                    (name, sql_type, nullable, length)
                })
                .collect()
        }
        #[cfg(feature = "postgres")]
        Db::Postgres(pool) => {
            sqlx::query_as(
                "SELECT column_name::text, data_type::text, is_nullable = 'YES', character_maximum_length::int4 \
                 FROM information_schema.columns \
                 WHERE table_name = 'nets_user' AND table_schema = current_schema() ORDER BY ordinal_position",
            )
            .fetch_all(pool)
            .await?
        }
    };
    Ok(rows
        .into_iter()
        .filter(|(name, _, _, _)| crate::settings::is_identifier(name))
        .map(|(name, sql_type, nullable, max_chars)| Column {
            kind: kind_of(&sql_type),
            name,
            sql_type,
            nullable,
            max_chars: max_chars.and_then(|n| usize::try_from(n).ok()),
        })
        .collect())
}

/// SQLite keeps the declared type as written: `VARCHAR(255)` → 255. (SQLite does not
/// enforce it, but a schema shared with PostgreSQL means it.)
fn declared_length(sql_type: &str) -> Option<i32> {
    let (_, rest) = sql_type.split_once('(')?;
    let length = rest.trim_end().strip_suffix(')')?.trim().parse().ok()?;
    (kind_of(sql_type) == Kind::Text).then_some(length)
}

/// The kind of a declared SQL type (SQLite's affinity rules, PostgreSQL's type names).
fn kind_of(sql_type: &str) -> Kind {
    let t = sql_type.to_ascii_lowercase();
    if t.contains("bool") {
        Kind::Bool
    } else if t.contains("int") {
        Kind::Integer
    } else if t.contains("char") || t.contains("text") || t.contains("clob") {
        Kind::Text
    } else if t.contains("timestamp") || t.contains("datetime") {
        Kind::Timestamp
    } else if t.contains("json") {
        Kind::Json
    } else if t.contains("real") || t.contains("floa") || t.contains("doub") || t == "numeric" {
        Kind::Float
    } else {
        Kind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_text_lengths_are_read_from_sqlite_types() {
        assert_eq!(declared_length("VARCHAR(255)"), Some(255));
        assert_eq!(declared_length("character varying ( 40 )"), Some(40));
        assert_eq!(declared_length("TEXT"), None);
        assert_eq!(declared_length("NUMERIC(10)"), None, "not a text column");
        assert_eq!(declared_length("VARCHAR(x)"), None);
    }

    #[test]
    fn file_type_patterns_are_content_types() {
        for ok in ["image/png", "image/*", "*/*", "application/vnd.ms-excel"] {
            assert!(is_type_pattern(ok), "{ok}");
        }
        for bad in ["png", "image/", "/png", "image/png; q=1", "image/png/x", "image /png", ""] {
            assert!(!is_type_pattern(bad), "{bad}");
        }
    }
}
