//! Loading a model by one column, for the code `#[derive(NetsModel)]` generates.
//!
//! The SQL is always a `&'static str` the macro wrote from the struct's own field names;
//! the request's text only ever reaches the database as a bound value, after parsing
//! into the column's Rust type. Text that does not parse (`1 OR 1=1` for an integer id)
//! finds nothing: a 404, never a 500.
//!
//! The same signatures exist without the `db` feature (returning a 500 at run time),
//! so generated code is identical in lean builds.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use crate::{ApiError, Ctx, NetsModel};

/// The owner or project field of a model (`#[nets(owner = "..")]`,
/// `#[nets(project = "..")]`): an id, maybe absent.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a model's owner or project field",
    label = "`owner = ..` and `project = ..` must name a field of type `i64` or `Option<i64>` (a user's or a project's id)"
)]
pub trait OwnerField {
    /// The owning user's id.
    fn owner_id(&self) -> Option<i64>;
}

impl OwnerField for i64 {
    fn owner_id(&self) -> Option<i64> {
        Some(*self)
    }
}

impl OwnerField for Option<i64> {
    fn owner_id(&self) -> Option<i64> {
        *self
    }
}

/// The type of a column a model can be looked up by: parsed from the request's text and
/// bound as a query parameter on SQLite and PostgreSQL.
#[cfg(feature = "db")]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a model's index field",
    label = "`index = ..` needs a type that parses from text (`FromStr`) and binds in sqlx (SQLite and PostgreSQL)",
    note = "use an integer, `String` or `uuid::Uuid` column as the index"
)]
pub trait IndexValue:
    std::str::FromStr
    + Send
    + 'static
    + for<'q> sqlx::Encode<'q, sqlx::Sqlite>
    + sqlx::Type<sqlx::Sqlite>
    + crate::db::PgParam
{
}
#[cfg(feature = "db")]
impl<V> IndexValue for V where
    V: std::str::FromStr
        + Send
        + 'static
        + for<'q> sqlx::Encode<'q, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + crate::db::PgParam
{
}

/// The type of a column a model can be looked up by (lean build: parses from text).
#[cfg(not(feature = "db"))]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a model's index field",
    label = "`index = ..` needs a type that parses from text (`FromStr`)"
)]
pub trait IndexValue: std::str::FromStr + Send + 'static {}
#[cfg(not(feature = "db"))]
impl<V: std::str::FromStr + Send + 'static> IndexValue for V {}

/// `<V as IndexColumn>::Type` is `V` for [`IndexValue`] types: generated code names the
/// index column's type through it so a wrong type is reported once, on the field's type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a model's index field",
    label = "`index = ..` needs a type that parses from text (`FromStr`) and binds as a query parameter",
    note = "use an integer, `String` or `uuid::Uuid` column as the index"
)]
pub trait IndexColumn {
    /// `V` itself.
    type Type: IndexValue;
}
impl<V: IndexValue> IndexColumn for V {
    type Type = V;
}

/// A model read from a database row on SQLite and PostgreSQL.
#[cfg(feature = "db")]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from a database row",
    label = "`#[derive(NetsModel)]` loads the model with sqlx",
    note = "derive `sqlx::FromRow` too: `#[derive(sqlx::FromRow, NetsModel)]`"
)]
pub trait ModelRow: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + crate::db::PgRecord + Send + Unpin {}
#[cfg(feature = "db")]
impl<T> ModelRow for T where T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + crate::db::PgRecord + Send + Unpin {}

/// A model read from a database row (lean build: no requirement).
#[cfg(not(feature = "db"))]
pub trait ModelRow: Send + Unpin {}
#[cfg(not(feature = "db"))]
impl<T: Send + Unpin> ModelRow for T {}

/// The row of `T` whose column equals `value` parsed as `V`, with `sqlite_sql` or
/// `pg_sql` (static text from the macro, one `?`/`$1` placeholder).
#[cfg(feature = "db")]
#[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
pub async fn find_one<T: ModelRow, V: IndexValue>(
    ctx: &Ctx,
    sqlite_sql: &'static str,
    pg_sql: &'static str,
    value: &str,
) -> Result<Option<T>, ApiError> {
    use crate::db::Db;

    let Ok(value) = value.parse::<V>() else {
        return Ok(None);
    };
    let found = match ctx.db()? {
        Db::Sqlite(pool) => sqlx::query_as::<_, T>(sqlite_sql).bind(value).fetch_optional(pool).await,
        #[cfg(feature = "postgres")]
        Db::Postgres(pool) => sqlx::query_as::<_, T>(pg_sql).bind(value).fetch_optional(pool).await,
    };
    found.map_err(ApiError::internal)
}

/// Lean build: there is no database to read from.
#[cfg(not(feature = "db"))]
pub async fn find_one<T: ModelRow, V: IndexValue>(
    _ctx: &Ctx,
    _sqlite_sql: &'static str,
    _pg_sql: &'static str,
    _value: &str,
) -> Result<Option<T>, ApiError> {
    Err(ApiError::internal("nets-runtime was built without the `db` feature: models cannot be loaded"))
}

/// An endpoint's `index_field` that is no column of the model: a programming error.
pub fn unknown_index<T: NetsModel>(field: &str) -> ApiError {
    ApiError::internal(format!("model table '{}' has no column '{field}' to look up by", T::TABLE))
}

/// A boxed lookup future.
pub type Lookup<'a, T> = Pin<Box<dyn Future<Output = Result<Option<T>, ApiError>> + Send + 'a>>;

/// Lookups by a column other than the declared index: usable when the column's type is
/// an [`IndexValue`] (autoref specialisation on `(&&IndexProbe::<V>::new()).lookup(..)`),
/// otherwise a 500 naming the column.
pub struct IndexProbe<V>(PhantomData<fn() -> V>);

impl<V> IndexProbe<V> {
    /// New probe.
    pub const fn new() -> Self {
        IndexProbe(PhantomData)
    }
}

impl<V> Default for IndexProbe<V> {
    fn default() -> Self {
        Self::new()
    }
}

/// Chosen when the column's type is an [`IndexValue`].
pub trait ViaIndexValue {
    /// [`find_one`] with the column's type.
    fn lookup<'a, T: ModelRow + 'a>(
        &self,
        ctx: &'a Ctx,
        sqlite_sql: &'static str,
        pg_sql: &'static str,
        value: &'a str,
        column: &'static str,
    ) -> Lookup<'a, T>;
}

impl<V: IndexValue> ViaIndexValue for &IndexProbe<V> {
    fn lookup<'a, T: ModelRow + 'a>(
        &self,
        ctx: &'a Ctx,
        sqlite_sql: &'static str,
        pg_sql: &'static str,
        value: &'a str,
        _column: &'static str,
    ) -> Lookup<'a, T> {
        Box::pin(find_one::<T, V>(ctx, sqlite_sql, pg_sql, value))
    }
}

/// Fallback: the column cannot be looked up by.
pub trait NotIndexValue {
    /// A 500 naming the column.
    fn lookup<'a, T: ModelRow + 'a>(
        &self,
        ctx: &'a Ctx,
        sqlite_sql: &'static str,
        pg_sql: &'static str,
        value: &'a str,
        column: &'static str,
    ) -> Lookup<'a, T>;
}

impl<V> NotIndexValue for IndexProbe<V> {
    fn lookup<'a, T: ModelRow + 'a>(
        &self,
        _ctx: &'a Ctx,
        _sqlite_sql: &'static str,
        _pg_sql: &'static str,
        _value: &'a str,
        column: &'static str,
    ) -> Lookup<'a, T> {
        let message = format!("column '{column}' cannot be used to look up a model: its type does not parse from text");
        Box::pin(std::future::ready(Err(ApiError::internal(message))))
    }
}
