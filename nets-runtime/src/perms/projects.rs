//! Projects and memberships belong to the application. nets reads them through a
//! [`ProjectSource`]: [`ProjectTables`] reads the tables named by `NETS_CORE_PROJECT_MODEL`
//! and `NETS_CORE_PROJECT_MEMBER_MODEL`; an application with another layout implements
//! the trait.

use std::sync::Arc;

use sqlx::AssertSqlSafe;

use super::PermsError;
use super::store::on_pool;
use crate::Membership;
use crate::auth::BoxFuture;
use crate::db::Db;
use crate::settings::is_identifier;

/// What a [`ProjectSource`] found for a project id and a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectMatch {
    /// No project has that id.
    Missing,
    /// The project exists; the user's membership, if any.
    Present(Option<Membership>),
}

/// Finds a project and a user's membership of it, in one round trip if possible.
///
/// ```
/// use nets_runtime::Membership;
/// use nets_runtime::auth::BoxFuture;
/// use nets_runtime::db::Db;
/// use nets_runtime::perms::{PermsError, ProjectMatch, ProjectSource};
///
/// /// Every project id below 100 exists; user 1 administers them all.
/// struct Fixed;
///
/// impl ProjectSource for Fixed {
///     fn find<'a>(&'a self, _: &'a Db, project: i64, user: Option<i64>)
///         -> BoxFuture<'a, Result<ProjectMatch, PermsError>>
///     {
///         let found = if project >= 100 {
///             ProjectMatch::Missing
///         } else {
///             ProjectMatch::Present(user.filter(|u| *u == 1).map(|u| Membership::new(project, u).superuser(true)))
///         };
///         Box::pin(async move { Ok(found) })
///     }
/// }
/// ```
pub trait ProjectSource: Send + Sync + 'static {
    /// Project `project` and the membership of `user` (`None`: anonymous).
    fn find<'a>(
        &'a self,
        db: &'a Db,
        project: i64,
        user: Option<i64>,
    ) -> BoxFuture<'a, Result<ProjectMatch, PermsError>>;
}

/// Projects and memberships read from two application tables.
///
/// * the project table has an integer `id`;
/// * the membership table has integer `project_id` and `user_id`, and optionally boolean
///   `is_superuser` and `enabled` columns, and the member's role either as text (`role`)
///   or as a reference to a `nets_role` row (`role_id`; a disabled role, or one of another
///   project, counts as no role). One membership per (project, user) is expected.
///
/// The columns are discovered when the source is created (so a missing table or column
/// fails at startup, naming it), and the one query is built then, from the validated
/// table names only.
#[derive(Debug, Clone)]
pub struct ProjectTables {
    sql: Arc<str>,
}

/// Which role column a membership table has.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RoleColumn {
    None,
    Text,
    /// `role_id` → `nets_role`.
    Reference,
    /// `role_id` → the application's role table: its name column, and whether it has
    /// an `enabled` column.
    AppTable {
        table: String,
        name: String,
        enabled: bool,
    },
}

impl ProjectTables {
    /// Checks both tables and builds the lookup query.
    pub async fn new(db: &Db, project_table: &str, member_table: &str) -> Result<ProjectTables, PermsError> {
        ProjectTables::build(db, project_table, member_table, None).await
    }

    /// Like [`new`](Self::new), with the members' `role_id` referencing the
    /// application's own role table (`NETS_CORE_PROJECT_ROLE_MODEL`, the original's
    /// `ProjectRole`) whose `name_column` holds the role's name; an `enabled` column there
    /// is honoured. The name answers `role:` checks, as a text `role` column does.
    pub async fn with_role_table(
        db: &Db,
        project_table: &str,
        member_table: &str,
        role_table: &str,
        name_column: &str,
    ) -> Result<ProjectTables, PermsError> {
        ProjectTables::build(db, project_table, member_table, Some((role_table, name_column))).await
    }

    async fn build(
        db: &Db,
        project_table: &str,
        member_table: &str,
        role_table: Option<(&str, &str)>,
    ) -> Result<ProjectTables, PermsError> {
        let named = role_table.into_iter().flat_map(|(table, name)| [table, name]);
        for table in [project_table, member_table].into_iter().chain(named) {
            if !is_identifier(table) {
                return Err(PermsError::ProjectTables(format!("'{table}' is not a plain table or column name")));
            }
        }
        let project_columns = columns(db, project_table).await?;
        let member_columns = columns(db, member_table).await?;
        let missing = |table: &str, columns: &[String], wanted: &str| {
            (!columns.iter().any(|c| c == wanted))
                .then(|| PermsError::ProjectTables(format!("table '{table}' has no column '{wanted}'")))
        };
        if project_columns.is_empty() {
            return Err(PermsError::ProjectTables(format!("no table '{project_table}'")));
        }
        if member_columns.is_empty() {
            return Err(PermsError::ProjectTables(format!("no table '{member_table}'")));
        }
        if let Some(e) = missing(project_table, &project_columns, "id")
            .or_else(|| missing(member_table, &member_columns, "project_id"))
            .or_else(|| missing(member_table, &member_columns, "user_id"))
        {
            return Err(e);
        }
        let has = |name: &str| member_columns.iter().any(|c| c == name);
        let role = if let Some((table, name)) = role_table {
            let role_columns = columns(db, table).await?;
            if role_columns.is_empty() {
                return Err(PermsError::ProjectTables(format!("no role table '{table}'")));
            }
            if let Some(e) = missing(table, &role_columns, "id")
                .or_else(|| missing(table, &role_columns, name))
                .or_else(|| missing(member_table, &member_columns, "role_id"))
            {
                return Err(e);
            }
            let enabled = role_columns.iter().any(|c| c == "enabled");
            RoleColumn::AppTable { table: table.to_owned(), name: name.to_owned(), enabled }
        } else if has("role_id") {
            RoleColumn::Reference
        } else if has("role") {
            RoleColumn::Text
        } else {
            RoleColumn::None
        };
        let sql = lookup_sql(project_table, member_table, has("is_superuser"), has("enabled"), role);
        Ok(ProjectTables { sql: sql.into() })
    }
}

/// The one lookup query. Table names are validated identifiers; column names are fixed.
fn lookup_sql(project: &str, member: &str, superuser: bool, enabled: bool, role: RoleColumn) -> String {
    let superuser = if superuser { "m.is_superuser" } else { "FALSE" };
    let enabled = if enabled { "m.enabled" } else { "TRUE" };
    let (role, join) = match role {
        RoleColumn::None => ("CAST(NULL AS TEXT)".to_owned(), String::new()),
        RoleColumn::Text => ("CAST(m.role AS TEXT)".to_owned(), String::new()),
        RoleColumn::Reference => (
            "CAST(r.name AS TEXT)".to_owned(),
            " LEFT JOIN nets_role r ON r.id = m.role_id AND r.enabled \
             AND (r.project_id IS NULL OR r.project_id = p.id)"
                .to_owned(),
        ),
        // Validated identifiers, quoted.
        RoleColumn::AppTable { table, name, enabled } => (
            format!("CAST(r.\"{name}\" AS TEXT)"),
            format!(" LEFT JOIN \"{table}\" r ON r.id = m.role_id{}", if enabled { " AND r.enabled" } else { "" }),
        ),
    };
    format!(
        "SELECT CAST(m.user_id AS BIGINT), {superuser}, {enabled}, {role} \
         FROM \"{project}\" p LEFT JOIN \"{member}\" m ON m.project_id = p.id AND m.user_id = $2{join} \
         WHERE p.id = $1 LIMIT 1"
    )
}

/// Column names of `table` (empty when there is no such table).
async fn columns(db: &Db, table: &str) -> Result<Vec<String>, PermsError> {
    const SQLITE: &str = "SELECT name FROM pragma_table_info($1)";
    #[cfg(feature = "postgres")]
    const PG: &str = "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
         WHERE table_name = $1 AND table_schema = current_schema()";
    Ok(match db {
        Db::Sqlite(pool) => sqlx::query_scalar(SQLITE).bind(table).fetch_all(pool).await?,
        #[cfg(feature = "postgres")]
        Db::Postgres(pool) => sqlx::query_scalar(PG).bind(table).fetch_all(pool).await?,
    })
}

type Row = (Option<i64>, Option<bool>, Option<bool>, Option<String>);

impl ProjectSource for ProjectTables {
    fn find<'a>(
        &'a self,
        db: &'a Db,
        project: i64,
        user: Option<i64>,
    ) -> BoxFuture<'a, Result<ProjectMatch, PermsError>> {
        Box::pin(async move {
            let sql = AssertSqlSafe(self.sql.clone());
            let row: Option<Row> =
                on_pool!(db, |pool| sqlx::query_as(sql).bind(project).bind(user).fetch_optional(pool).await?);
            Ok(match row {
                None => ProjectMatch::Missing,
                Some((None, ..)) => ProjectMatch::Present(None),
                Some((Some(user), superuser, enabled, role)) => {
                    let mut m = Membership::new(project, user)
                        .superuser(superuser.unwrap_or(false))
                        .enabled(enabled.unwrap_or(true));
                    m.role = role.map(Arc::from);
                    ProjectMatch::Present(Some(m))
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lookup_names_only_validated_tables_and_fixed_columns() {
        let sql = lookup_sql("app_project", "app_member", true, false, RoleColumn::Reference);
        assert!(sql.contains("FROM \"app_project\" p LEFT JOIN \"app_member\" m"));
        assert!(sql.contains("m.is_superuser, TRUE, CAST(r.name AS TEXT)"));
        let sql = lookup_sql("p", "m", false, true, RoleColumn::Text);
        assert!(sql.contains("FALSE, m.enabled, CAST(m.role AS TEXT)") && !sql.contains("nets_role"));
    }
}
