//! The nets side of an import: one transaction on the target database, committed with
//! `--apply` and rolled back otherwise, so a dry run counts exactly what would change.

use crate::db::Db;

/// A transaction on either backend.
pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs one statement inside the transaction: `on_tx!(tx, |c| query.execute(&mut **c).await)`,
/// the body compiled once per backend.
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::django_import::tx::Tx::Sqlite($conn) => $body,
            #[cfg(feature = "postgres")]
            $crate::django_import::tx::Tx::Postgres($conn) => $body,
        }
    };
}
pub(crate) use on_tx;

impl Tx {
    pub(crate) async fn begin(db: &Db) -> Result<Tx, sqlx::Error> {
        Ok(match db {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub(crate) fn is_postgres(&self) -> bool {
        #[cfg(feature = "postgres")]
        return matches!(self, Tx::Postgres(_));
        #[cfg(not(feature = "postgres"))]
        false
    }

    pub(crate) async fn finish(self, apply: bool) -> Result<(), sqlx::Error> {
        match (self, apply) {
            (Tx::Sqlite(tx), true) => tx.commit().await,
            (Tx::Sqlite(tx), false) => tx.rollback().await,
            #[cfg(feature = "postgres")]
            (Tx::Postgres(tx), true) => tx.commit().await,
            #[cfg(feature = "postgres")]
            (Tx::Postgres(tx), false) => tx.rollback().await,
        }
    }

    /// The id of the row `sql` (one bound value) finds.
    pub(crate) async fn find<V>(&mut self, sql: &'static str, key: V) -> Result<Option<i64>, sqlx::Error>
    where
        V: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + crate::db::PgParam + Send,
    {
        on_tx!(self, |c| sqlx::query_scalar(sql).bind(key).fetch_optional(&mut **c).await)
    }
}

/// How one row ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Created,
    Updated,
    Unchanged,
}

impl Outcome {
    /// `rows_affected` of an `UPDATE .. WHERE <something differs>`.
    pub(crate) fn of_update(rows: u64) -> Outcome {
        if rows == 0 { Outcome::Unchanged } else { Outcome::Updated }
    }
}
