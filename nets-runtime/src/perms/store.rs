//! SQL over nets' permission tables. Every statement is static text with bound values,
//! written once for both backends (SQLite accepts PostgreSQL's `$1` placeholders).

use std::collections::HashSet;

use crate::db::Db;

// Statements are written once, with `$1`-style placeholders (both backends accept them).
pub(crate) use crate::db::on_pool;

/// A role, global (`project_id` is `None`) or scoped to a project.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
#[non_exhaustive]
pub struct Role {
    /// Primary key.
    pub id: i64,
    /// Name, unique within its project (or among global roles).
    pub name: String,
    /// Free text.
    pub description: String,
    /// Disabled roles grant nothing.
    pub enabled: bool,
    /// The project, `None` for a global role.
    pub project_id: Option<i64>,
}

/// A permission: a lower-case codename with a human name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
#[non_exhaustive]
pub struct Permission {
    /// Primary key.
    pub id: i64,
    /// `action` or `app.action`, lower-case.
    pub codename: String,
    /// Human name (`Can publish`).
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// The project it exists in, `None` for every project and globally.
    pub project_id: Option<i64>,
}

const GLOBAL_GRANTS: &str = "SELECT DISTINCT lower(p.codename) FROM nets_user_role ur \
     JOIN nets_role r ON r.id = ur.role_id \
     JOIN nets_role_permission rp ON rp.role_id = r.id \
     JOIN nets_permission p ON p.id = rp.permission_id \
     WHERE ur.user_id = $1 AND r.enabled AND ur.project_id IS NULL AND r.project_id IS NULL \
     AND p.project_id IS NULL";

// A role assigned in a project grants there only; a role or permission scoped to another
// project never applies.
const PROJECT_GRANTS: &str = "SELECT DISTINCT lower(p.codename) FROM nets_user_role ur \
     JOIN nets_role r ON r.id = ur.role_id \
     JOIN nets_role_permission rp ON rp.role_id = r.id \
     JOIN nets_permission p ON p.id = rp.permission_id \
     WHERE ur.user_id = $1 AND r.enabled AND ur.project_id = $2 \
     AND (r.project_id IS NULL OR r.project_id = $2) AND (p.project_id IS NULL OR p.project_id = $2)";

/// The codenames `user` holds through enabled roles in `project` (or globally).
pub(crate) async fn grants(db: &Db, user: i64, project: Option<i64>) -> Result<HashSet<Box<str>>, sqlx::Error> {
    let rows: Vec<String> = match project {
        None => on_pool!(db, |pool| sqlx::query_scalar(GLOBAL_GRANTS).bind(user).fetch_all(pool).await?),
        Some(p) => on_pool!(db, |pool| sqlx::query_scalar(PROJECT_GRANTS).bind(user).bind(p).fetch_all(pool).await?),
    };
    Ok(rows.into_iter().map(String::into_boxed_str).collect())
}

pub(crate) async fn user_exists(db: &Db, user: i64) -> Result<bool, sqlx::Error> {
    const SQL: &str = "SELECT id FROM nets_user WHERE id = $1";
    let found: Option<i64> = on_pool!(db, |pool| sqlx::query_scalar(SQL).bind(user).fetch_optional(pool).await?);
    Ok(found.is_some())
}

/// The role `name` of `project` (or the global one), created when missing.
pub(crate) async fn ensure_role(db: &Db, name: &str, project: Option<i64>) -> Result<(Role, bool), sqlx::Error> {
    const INSERT: &str = "INSERT INTO nets_role (name, project_id) VALUES ($1, $2) ON CONFLICT DO NOTHING \
         RETURNING id, name, description, enabled, project_id";
    let inserted: Option<Role> =
        on_pool!(db, |pool| sqlx::query_as(INSERT).bind(name).bind(project).fetch_optional(pool).await?);
    if let Some(role) = inserted {
        return Ok((role, true));
    }
    let role = find_role(db, name, project).await?.ok_or(sqlx::Error::RowNotFound)?;
    Ok((role, false))
}

pub(crate) async fn find_role(db: &Db, name: &str, project: Option<i64>) -> Result<Option<Role>, sqlx::Error> {
    const SQL: &str = "SELECT id, name, description, enabled, project_id FROM nets_role \
         WHERE name = $1 AND COALESCE(project_id, 0) = COALESCE($2, 0)";
    Ok(on_pool!(db, |pool| sqlx::query_as(SQL).bind(name).bind(project).fetch_optional(pool).await?))
}

pub(crate) async fn set_role_enabled(db: &Db, role: i64, enabled: bool) -> Result<bool, sqlx::Error> {
    const SQLITE: &str =
        "UPDATE nets_role SET enabled = $2, updated = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = $1";
    #[cfg(feature = "postgres")]
    const PG: &str = "UPDATE nets_role SET enabled = $2, updated = now() WHERE id = $1";
    let done = match db {
        Db::Sqlite(pool) => sqlx::query(SQLITE).bind(role).bind(enabled).execute(pool).await?.rows_affected(),
        #[cfg(feature = "postgres")]
        Db::Postgres(pool) => sqlx::query(PG).bind(role).bind(enabled).execute(pool).await?.rows_affected(),
    };
    Ok(done > 0)
}

/// The permission `codename` (lower-case) of `project` (or global), created when missing.
pub(crate) async fn ensure_permission(
    db: &Db,
    codename: &str,
    name: &str,
    description: Option<&str>,
    project: Option<i64>,
) -> Result<(Permission, bool), sqlx::Error> {
    const INSERT: &str = "INSERT INTO nets_permission (codename, name, description, project_id) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id, codename, name, description, project_id";
    const FIND: &str = "SELECT id, codename, name, description, project_id FROM nets_permission \
         WHERE lower(codename) = $1 AND COALESCE(project_id, 0) = COALESCE($2, 0)";
    let inserted: Option<Permission> = on_pool!(db, |pool| sqlx::query_as(INSERT)
        .bind(codename)
        .bind(name)
        .bind(description)
        .bind(project)
        .fetch_optional(pool)
        .await?);
    if let Some(permission) = inserted {
        return Ok((permission, true));
    }
    let found: Option<Permission> =
        on_pool!(db, |pool| sqlx::query_as(FIND).bind(codename).bind(project).fetch_optional(pool).await?);
    Ok((found.ok_or(sqlx::Error::RowNotFound)?, false))
}

/// Lower-case codenames of every global permission.
pub(crate) async fn global_codenames(db: &Db) -> Result<HashSet<String>, sqlx::Error> {
    const SQL: &str = "SELECT lower(codename) FROM nets_permission WHERE project_id IS NULL";
    let rows: Vec<String> = on_pool!(db, |pool| sqlx::query_scalar(SQL).fetch_all(pool).await?);
    Ok(rows.into_iter().collect())
}

/// Every role name, global or of a project, lower-cased.
pub(crate) async fn role_names(db: &Db) -> Result<HashSet<String>, sqlx::Error> {
    const SQL: &str = "SELECT DISTINCT lower(name) FROM nets_role";
    let rows: Vec<String> = on_pool!(db, |pool| sqlx::query_scalar(SQL).fetch_all(pool).await?);
    Ok(rows.into_iter().collect())
}

pub(crate) async fn grant(db: &Db, role: i64, permission: i64) -> Result<bool, sqlx::Error> {
    const SQL: &str =
        "INSERT INTO nets_role_permission (role_id, permission_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
    let done = on_pool!(db, |pool| sqlx::query(SQL).bind(role).bind(permission).execute(pool).await?.rows_affected());
    Ok(done > 0)
}

pub(crate) async fn revoke(db: &Db, role: i64, permission: i64) -> Result<bool, sqlx::Error> {
    const SQL: &str = "DELETE FROM nets_role_permission WHERE role_id = $1 AND permission_id = $2";
    let done = on_pool!(db, |pool| sqlx::query(SQL).bind(role).bind(permission).execute(pool).await?.rows_affected());
    Ok(done > 0)
}

pub(crate) async fn add_user_role(db: &Db, user: i64, role: i64, project: Option<i64>) -> Result<bool, sqlx::Error> {
    const SQL: &str =
        "INSERT INTO nets_user_role (user_id, role_id, project_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
    let done =
        on_pool!(db, |pool| sqlx::query(SQL).bind(user).bind(role).bind(project).execute(pool).await?.rows_affected());
    Ok(done > 0)
}

pub(crate) async fn remove_user_role(db: &Db, user: i64, role: i64, project: Option<i64>) -> Result<bool, sqlx::Error> {
    const SQL: &str =
        "DELETE FROM nets_user_role WHERE user_id = $1 AND role_id = $2 AND COALESCE(project_id, 0) = COALESCE($3, 0)";
    let done =
        on_pool!(db, |pool| sqlx::query(SQL).bind(user).bind(role).bind(project).execute(pool).await?.rows_affected());
    Ok(done > 0)
}
