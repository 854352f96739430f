//! The application's project tables (`NETS_CORE_PROJECT_MODEL`,
//! `NETS_CORE_PROJECT_ROLE_MODEL`, `NETS_CORE_PROJECT_MEMBER_MODEL`): nets reads
//! memberships from the app's own tables, so the import copies the Django tables of the
//! same names into them, row by row by `id`, for the columns both sides have.
//!
//! Values travel as text and are cast to the nets column's type (PostgreSQL) or stored
//! under the column's affinity (SQLite), so SQLite → PostgreSQL and back both work for
//! the usual column types (integers, text, booleans, timestamps, numerics, uuids, JSON).
//! Table and column names are checked identifiers read from the two catalogues.

use std::collections::HashSet;

use sqlx::Row;

use super::source::Source;
use super::tx::{Outcome, Tx, on_tx};
use super::{ImportError, Report};
use crate::Settings;
use crate::settings::is_identifier;

/// A Django table read for copying.
pub(crate) struct Table {
    name: String,
    kind: &'static str,
    columns: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
}

/// The configured project tables that exist in Django, read whole (as text).
pub(crate) async fn read(source: &Source, settings: &Settings) -> Result<Vec<Table>, ImportError> {
    let configured = [
        (settings.project_model.as_deref(), "projects"),
        (settings.project_role_model.as_deref(), "project roles"),
        (settings.project_member_model.as_deref(), "memberships"),
    ];
    let mut tables = Vec::new();
    for (name, kind) in configured {
        let Some(name) = name.filter(|n| is_identifier(n)) else { continue };
        let columns: Vec<String> = source.columns(name).await?.into_iter().filter(|c| is_identifier(c)).collect();
        if !columns.iter().any(|c| c == "id") {
            continue; // not in Django under this name: nothing to copy
        }
        let select = columns.iter().map(|c| format!("CAST(\"{c}\" AS TEXT)")).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT {select} FROM \"{name}\" ORDER BY \"id\"");
        let rows = source.text_rows(&sql, columns.len()).await?;
        tables.push(Table { name: name.to_owned(), kind, columns, rows });
    }
    Ok(tables)
}

/// A nets column: its name and the type to cast text to (PostgreSQL) or its declared
/// type (SQLite).
struct Column {
    name: String,
    ty: String,
}

async fn target_columns(tx: &mut Tx, table: &str) -> Result<Vec<Column>, sqlx::Error> {
    const SQLITE: &str = "SELECT name, type FROM pragma_table_info($1)";
    #[cfg(feature = "postgres")]
    const POSTGRES: &str = "SELECT column_name::text, data_type::text FROM information_schema.columns \
                            WHERE table_name = $1 AND table_schema = current_schema()";
    let pairs: Vec<(String, String)> = match tx {
        Tx::Sqlite(c) => sqlx::query_as(SQLITE).bind(table).fetch_all(&mut **c).await?,
        #[cfg(feature = "postgres")]
        Tx::Postgres(c) => sqlx::query_as(POSTGRES).bind(table).fetch_all(&mut **c).await?,
    };
    Ok(pairs.into_iter().map(|(name, ty)| Column { name, ty: ty.to_ascii_lowercase() }).collect())
}

/// PostgreSQL types a text value is cast to; anything else is not copied.
const CASTABLE: [&str; 15] = [
    "bigint",
    "integer",
    "smallint",
    "text",
    "character varying",
    "character",
    "boolean",
    "timestamp with time zone",
    "timestamp without time zone",
    "date",
    "numeric",
    "double precision",
    "real",
    "uuid",
    // Not `json`: it has no equality, so no `IS DISTINCT FROM`.
    "jsonb",
];

/// A text value as the nets column wants it: SQLite keeps booleans as 0/1.
fn value(text: &Option<String>, column: &Column, postgres: bool) -> Option<String> {
    let text = text.as_ref()?;
    if !postgres && column.ty.contains("bool") {
        return Some(match text.as_str() {
            "true" | "t" => "1".to_owned(),
            "false" | "f" => "0".to_owned(),
            other => other.to_owned(),
        });
    }
    Some(text.clone())
}

pub(crate) async fn write(
    tx: &mut Tx,
    tables: &[Table],
    users: &HashSet<i64>,
    apply: bool,
    report: &mut Report,
) -> Result<(), ImportError> {
    let postgres = tx.is_postgres();
    for table in tables {
        let target = target_columns(tx, &table.name).await?;
        if target.is_empty() {
            report.notes.push(format!("{}: nets has no table {} (create it first)", table.kind, table.name));
            continue;
        }
        // The Django columns nets has too, with their position in the Django row.
        let mut shared: Vec<(usize, &Column)> = Vec::new();
        for (at, name) in table.columns.iter().enumerate() {
            let Some(column) = target.iter().find(|c| &c.name == name) else { continue };
            if postgres && !CASTABLE.contains(&column.ty.as_str()) {
                report.notes.push(format!("{}: column {name} ({}) is not copied", table.kind, column.ty));
                continue;
            }
            shared.push((at, column));
        }
        let Some(id_at) = shared.iter().position(|(_, c)| c.name == "id") else { continue };
        let user_at = shared.iter().position(|(_, c)| c.name == "user_id");
        let placeholder = |n: usize, column: &Column| {
            if postgres { format!("CAST(${n} AS {})", column.ty) } else { format!("${n}") }
        };
        let names: Vec<String> = shared.iter().map(|(_, c)| format!("\"{}\"", c.name)).collect();
        let values: Vec<String> = shared.iter().enumerate().map(|(i, (_, c))| placeholder(i + 1, c)).collect();
        let insert = format!("INSERT INTO \"{}\" ({}) VALUES ({})", table.name, names.join(", "), values.join(", "));
        let others: Vec<(usize, &Column)> =
            shared.iter().enumerate().filter(|(i, _)| *i != id_at).map(|(i, (_, c))| (i, *c)).collect();
        let update = if others.is_empty() {
            None
        } else {
            let set: Vec<String> =
                others.iter().map(|(i, c)| format!("{} = {}", c.name, placeholder(i + 1, c))).collect();
            let differs: Vec<String> =
                others.iter().map(|(i, c)| format!("{} IS DISTINCT FROM {}", c.name, placeholder(i + 1, c))).collect();
            Some(format!(
                "UPDATE {} SET {} WHERE id = {} AND ({})",
                table.name,
                set.join(", "),
                placeholder(id_at + 1, shared[id_at].1),
                differs.join(" OR ")
            ))
        };
        let find = format!("SELECT 1 FROM \"{}\" WHERE \"id\" = {}", table.name, placeholder(1, shared[id_at].1));
        for row in &table.rows {
            let texts: Vec<Option<String>> = shared.iter().map(|(at, c)| value(&row[*at], c, postgres)).collect();
            let user = user_at.and_then(|at| texts[at].as_deref()).and_then(|u| u.parse::<i64>().ok());
            if let Some(user) = user.filter(|u| !users.contains(u)) {
                report.skip(table.kind, format!("{} row {:?}: user {user} was not imported", table.name, texts[id_at]));
                continue;
            }
            let id = texts[id_at].clone();
            let exists: Option<i32> = on_tx!(tx, |c| {
                sqlx::query_scalar(sqlx::AssertSqlSafe(find.clone())).bind(&id).fetch_optional(&mut **c).await
            })?;
            let sql = match (&exists, &update) {
                (None, _) => &insert,
                (Some(_), Some(update)) => update,
                (Some(_), None) => {
                    report.count(table.kind, Outcome::Unchanged);
                    continue;
                }
            };
            let rows = on_tx!(tx, |c| {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                for text in &texts {
                    query = query.bind(text);
                }
                query.execute(&mut **c).await.map(|done| done.rows_affected())
            })?;
            report.count(table.kind, if exists.is_none() { Outcome::Created } else { Outcome::of_update(rows) });
        }
        let integer_ids = ["bigint", "integer", "smallint"].contains(&shared[id_at].1.ty.as_str());
        if postgres && apply && integer_ids {
            // Rows came with their ids: the table's own sequence (if it has one) moves past
            // them. Not in a dry run: sequences are not transactional.
            let sequence = format!(
                "SELECT setval(s.seq, (SELECT COALESCE(MAX(\"id\"), 0) + 1 FROM \"{0}\"), false) \
                 FROM (SELECT pg_get_serial_sequence('\"{0}\"', 'id') AS seq) s WHERE s.seq IS NOT NULL",
                table.name
            );
            on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sequence)).execute(&mut **c).await.map(drop))?;
        }
    }
    Ok(())
}

impl Source {
    /// Rows of `columns` text values (`NULL` as `None`).
    pub(crate) async fn text_rows(&self, sql: &str, columns: usize) -> Result<Vec<Vec<Option<String>>>, ImportError> {
        let read =
            |e: sqlx::Error| ImportError::Source(format!("{e} (in: {})", sql.chars().take(90).collect::<String>()));
        let text = sqlx::AssertSqlSafe(sql.to_owned());
        match self {
            Source::Sqlite(pool) => {
                let rows = sqlx::query(text).fetch_all(pool).await.map_err(read)?;
                rows.iter()
                    .map(|r| (0..columns).map(|i| r.try_get(i)).collect::<Result<_, _>>().map_err(read))
                    .collect()
            }
            #[cfg(feature = "postgres")]
            Source::Postgres(pool) => {
                let rows = sqlx::query(text).fetch_all(pool).await.map_err(read)?;
                rows.iter()
                    .map(|r| (0..columns).map(|i| r.try_get(i)).collect::<Result<_, _>>().map_err(read))
                    .collect()
            }
        }
    }
}
