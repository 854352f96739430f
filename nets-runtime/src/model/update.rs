//! [`Update`]: saving changed fields of a model, with `updated` and the `updated_fields`
//! change history maintained by the runtime (SEED §6.1, defects fixed).
//!
//! One `UPDATE .. RETURNING` statement per save: the changed columns, `updated = now`,
//! and one history entry per changed field appended *in SQL*, so two concurrent saves
//! never overwrite each other's history. Column names come from the struct (checked
//! identifiers, fixed at compile time); every value is a bound parameter.
//!
//! Unlike the original, the history also covers date and time fields (its check for
//! auto-now fields skipped all of them), values are kept as JSON (not `str()`), a
//! `NULL` history starts afresh instead of crashing, and protected fields record that
//! they changed without recording either value.

use std::future::Future;

#[cfg_attr(not(feature = "db"), allow(unused_imports))]
use serde_json::{Map, Value, json};

use super::ToJson;
use super::lookup::ModelRow;
#[cfg_attr(not(feature = "db"), allow(unused_imports))]
use crate::{ApiError, Ctx, NetsModel, Settings};

/// What `#[derive(NetsModel)]` generates so [`Update`] can write a model's columns.
pub trait ModelColumns: NetsModel + ToJson + ModelRow {
    /// The struct has an `updated` field: set it to the current time on every save.
    const HAS_UPDATED: bool;
    /// The struct has an `updated_fields` field: append the change history to it.
    const HAS_HISTORY: bool;

    /// Binds the value of column `column` (a name from [`ToJson::FIELDS`]).
    fn bind_column(&self, column: &str, binder: &mut Binder<'_>) -> Result<(), ApiError>;
}

/// Saving changes to a model, implemented for every `#[derive(NetsModel)]` type.
///
/// ```no_run
/// use nets_runtime::prelude::*;
/// use nets_runtime::model::Update;
///
/// #[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, NetsModel)]
/// #[nets(table = "invoices", owner = "user_id")]
/// struct Invoice {
///     id: i64,
///     user_id: i64,
///     title: String,
///     updated: chrono::DateTime<chrono::Utc>,
///     updated_fields: sqlx::types::Json<serde_json::Value>,
/// }
///
/// #[request_handler(path = "invoices/{id}/", method = POST, model = Invoice)]
/// async fn rename(ctx: Ctx, mut invoice: Invoice, title: String) -> ApiResult<Vec<&'static str>> {
///     // Writes `title`, `updated` and a history entry; `invoice` is refreshed from the row.
///     Ok(invoice.update(&ctx, |i| i.title = title).await?)
/// }
/// ```
pub trait Update: Sized {
    /// Applies `change` and saves the fields it changed (compared through their JSON
    /// form), refreshing `self` from the stored row. Returns the changed field names;
    /// nothing changed means no query. Changing the index field or `created` is an error
    /// (a 500: a programming error); `updated` and `updated_fields` are the runtime's.
    /// A row deleted meanwhile is a 404.
    fn update(
        &mut self,
        ctx: &Ctx,
        change: impl FnOnce(&mut Self) + Send,
    ) -> impl Future<Output = Result<Vec<&'static str>, ApiError>> + Send;

    /// [`update`](Self::update) outside a request (jobs, commands): the database and
    /// settings (for the protected-field list) given directly.
    #[cfg(feature = "db")]
    fn update_in(
        &mut self,
        db: &crate::db::Db,
        settings: &Settings,
        change: impl FnOnce(&mut Self) + Send,
    ) -> impl Future<Output = Result<Vec<&'static str>, ApiError>> + Send;
}

impl<M: ModelColumns + Sync> Update for M {
    async fn update(
        &mut self,
        ctx: &Ctx,
        change: impl FnOnce(&mut Self) + Send,
    ) -> Result<Vec<&'static str>, ApiError> {
        #[cfg(feature = "db")]
        {
            self.update_in(ctx.db()?, ctx.settings(), change).await
        }
        #[cfg(not(feature = "db"))]
        {
            let _ = (ctx, change);
            Err(ApiError::internal("nets-runtime was built without the `db` feature: models cannot be saved"))
        }
    }

    #[cfg(feature = "db")]
    async fn update_in(
        &mut self,
        db: &crate::db::Db,
        settings: &Settings,
        change: impl FnOnce(&mut Self) + Send,
    ) -> Result<Vec<&'static str>, ApiError> {
        let before = columns_of(self)?;
        change(self);
        let after = columns_of(self)?;
        let changed = changed_columns::<M>(&before, &after)?;
        if changed.is_empty() {
            return Ok(changed);
        }
        let history = if M::HAS_HISTORY { history_entries::<M>(settings, &changed, &before, &after) } else { vec![] };
        let stored = save::<M>(db, self, &changed, &history).await?;
        *self = stored.ok_or(ApiError::NotFound)?;
        Ok(changed)
    }
}

#[cfg(feature = "db")]
fn columns_of<M: ToJson>(model: &M) -> Result<Map<String, Value>, ApiError> {
    match serde_json::to_value(model) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::internal(format!("model did not serialise to a JSON object: got {other}"))),
        Err(e) => Err(ApiError::internal(e)),
    }
}

#[cfg(feature = "db")]
/// The columns whose JSON form differs, in struct order, minus the ones the runtime
/// maintains. Changing the index or `created` is refused.
fn changed_columns<M: ModelColumns>(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
) -> Result<Vec<&'static str>, ApiError> {
    let mut changed = Vec::new();
    for &name in M::FIELDS {
        if before.get(name) == after.get(name) || name == "updated" || name == "updated_fields" {
            continue;
        }
        if name == M::INDEX_FIELD || name == "created" {
            return Err(ApiError::internal(format!(
                "{}.{name} cannot be changed through update(): it identifies the row or is kept by the runtime",
                M::TABLE
            )));
        }
        changed.push(name);
    }
    Ok(changed)
}

#[cfg(feature = "db")]
/// One `{"old", "new", "time"}` entry per changed field (values left out for protected
/// fields, which record only that they changed).
fn history_entries<M: ToJson>(
    settings: &Settings,
    changed: &[&'static str],
    before: &Map<String, Value>,
    after: &Map<String, Value>,
) -> Vec<Value> {
    let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    changed
        .iter()
        .map(|&name| {
            if M::is_protected(settings, name) {
                json!({"time": time, "protected": true})
            } else {
                let value = |map: &Map<String, Value>| map.get(name).cloned().unwrap_or(Value::Null);
                json!({"old": value(before), "new": value(after), "time": time})
            }
        })
        .collect()
}

/// Binds values of one query, on either backend, for [`ModelColumns::bind_column`].
pub enum Binder<'a> {
    /// A statement for SQLite.
    #[cfg(feature = "db")]
    Sqlite(&'a mut sqlx::QueryBuilder<sqlx::Sqlite>),
    /// A statement for PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(&'a mut sqlx::QueryBuilder<sqlx::Postgres>),
    #[doc(hidden)]
    #[cfg(not(feature = "db"))]
    _Lean(std::convert::Infallible, std::marker::PhantomData<&'a ()>),
}

#[cfg(feature = "db")]
impl Binder<'_> {
    pub(crate) fn push(&mut self, sql: &str) {
        match self {
            Binder::Sqlite(q) => drop(q.push(sql)),
            #[cfg(feature = "postgres")]
            Binder::Postgres(q) => drop(q.push(sql)),
        }
    }

    /// Binds `value` in place (a `?` or `$n` placeholder).
    pub fn bind<V: BindValue>(&mut self, value: &V) {
        match self {
            Binder::Sqlite(q) => drop(q.push_bind(value)),
            #[cfg(feature = "postgres")]
            Binder::Postgres(q) => drop(q.push_bind(value)),
        }
    }
}

/// A column type [`Update`] can write on SQLite and PostgreSQL.
#[cfg(feature = "db")]
pub trait BindValue: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + crate::db::PgParam {}
#[cfg(feature = "db")]
impl<V> BindValue for V where V: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + crate::db::PgParam {}
/// A column type [`Update`] can write (lean build: any).
#[cfg(not(feature = "db"))]
pub trait BindValue {}
#[cfg(not(feature = "db"))]
impl<V> BindValue for V {}

/// Autoref specialisation for [`ModelColumns::bind_column`]: columns whose type binds
/// in sqlx are written; others are a 500 naming the column (only when changed).
pub struct BindProbe<V>(std::marker::PhantomData<fn() -> V>);

impl<V> BindProbe<V> {
    /// New probe.
    pub const fn new() -> Self {
        BindProbe(std::marker::PhantomData)
    }
}

impl<V> Default for BindProbe<V> {
    fn default() -> Self {
        Self::new()
    }
}

/// Chosen when the column's type binds.
pub trait ViaBindValue<V> {
    /// Binds the value.
    fn bind_value(&self, binder: &mut Binder<'_>, value: &V, column: &'static str) -> Result<(), ApiError>;
}

impl<V: BindValue> ViaBindValue<V> for &BindProbe<V> {
    fn bind_value(&self, binder: &mut Binder<'_>, value: &V, _column: &'static str) -> Result<(), ApiError> {
        #[cfg(feature = "db")]
        binder.bind(value);
        #[cfg(not(feature = "db"))]
        let _ = (binder, value);
        Ok(())
    }
}

/// Fallback: the column's type cannot be bound.
pub trait NotBindValue<V> {
    /// A 500 naming the column.
    fn bind_value(&self, binder: &mut Binder<'_>, value: &V, column: &'static str) -> Result<(), ApiError>;
}

impl<V> NotBindValue<V> for BindProbe<V> {
    fn bind_value(&self, _: &mut Binder<'_>, _: &V, column: &'static str) -> Result<(), ApiError> {
        Err(ApiError::internal(format!("column '{column}' cannot be saved: its type does not encode in sqlx")))
    }
}

/// Runs the statement; `None` when the row is gone.
#[cfg(feature = "db")]
async fn save<M: ModelColumns + Sync>(
    db: &crate::db::Db,
    model: &M,
    changed: &[&'static str],
    history: &[Value],
) -> Result<Option<M>, ApiError> {
    use crate::db::Db;

    match db {
        Db::Sqlite(pool) => {
            let mut query = sqlx::QueryBuilder::new("");
            write_update(model, changed, history, &mut Binder::Sqlite(&mut query), Dialect::Sqlite)?;
            query.build_query_as::<M>().fetch_optional(pool).await.map_err(ApiError::internal)
        }
        #[cfg(feature = "postgres")]
        Db::Postgres(pool) => {
            let mut query = sqlx::QueryBuilder::new("");
            write_update(model, changed, history, &mut Binder::Postgres(&mut query), Dialect::Postgres)?;
            query.build_query_as::<M>().fetch_optional(pool).await.map_err(ApiError::internal)
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
#[cfg(feature = "db")]
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// `UPDATE "t" SET "a" = ?, .., "updated" = <now>, "updated_fields" = <history>
/// WHERE "<index>" = ? RETURNING <every field>`. Names are the struct's (identifiers
/// checked by the derive) and always double-quoted; values are bound.
#[cfg(feature = "db")]
fn write_update<M: ModelColumns>(
    model: &M,
    changed: &[&'static str],
    history: &[Value],
    q: &mut Binder<'_>,
    dialect: Dialect,
) -> Result<(), ApiError> {
    q.push("UPDATE ");
    q.push(&quoted(M::TABLE));
    q.push(" SET ");
    for (i, &name) in changed.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.push(&format!("\"{name}\" = "));
        model.bind_column(name, q)?;
    }
    if M::HAS_UPDATED {
        q.push(match dialect {
            Dialect::Sqlite => ", \"updated\" = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            Dialect::Postgres => ", \"updated\" = now()",
        });
    }
    if !history.is_empty() {
        q.push(", \"updated_fields\" = ");
        push_history(q, changed, history, dialect);
    }
    q.push(" WHERE ");
    q.push(&format!("\"{}\" = ", M::INDEX_FIELD));
    model.bind_column(M::INDEX_FIELD, q)?;
    q.push(" RETURNING ");
    q.push(&M::FIELDS.iter().map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(", "));
    Ok(())
}

/// Appends each entry to the field's list inside the stored history, in SQL: the
/// expressions read the row's current `updated_fields`, so concurrent saves compose.
#[cfg(feature = "db")]
pub(crate) fn push_history(q: &mut Binder<'_>, changed: &[&str], history: &[Value], dialect: Dialect) {
    match dialect {
        Dialect::Sqlite => {
            q.push("json_set(COALESCE(\"updated_fields\", '{}')");
            for (name, entry) in changed.iter().zip(history) {
                q.push(&format!(
                    ", '$.\"{name}\"', json_insert(COALESCE(json_extract(\"updated_fields\", '$.\"{name}\"'), '[]'), \
                     '$[#]', json("
                ));
                q.bind(&sqlx::types::Json(entry));
                q.push("))");
            }
            q.push(")");
        }
        Dialect::Postgres => {
            q.push("COALESCE(\"updated_fields\", '{}'::jsonb) || jsonb_build_object(");
            for (i, (name, entry)) in changed.iter().zip(history).enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.push(&format!(
                    "'{name}', COALESCE(\"updated_fields\" -> '{name}', '[]'::jsonb) || jsonb_build_array("
                ));
                q.bind(&sqlx::types::Json(entry));
                q.push("::jsonb)");
            }
            q.push(")");
        }
    }
}

/// `"schema"."table"` from `schema.table`.
#[cfg(feature = "db")]
fn quoted(identifier: &str) -> String {
    identifier.split('.').map(|part| format!("\"{part}\"")).collect::<Vec<_>>().join(".")
}
