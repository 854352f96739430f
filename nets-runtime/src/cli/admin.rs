//! Administration on the database: OAuth client applications, superusers, users, roles
//! and permissions. Every statement is a fixed text with bound values; names a user
//! types never become SQL.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::Subcommand;
use serde::Serialize;

use super::BoxError;
use crate::db::{Db, on_pool};
use crate::oauth::ClientType;
use crate::perms::Perms;
use crate::stack::Stack;
use crate::users::{CreateUserError, create_superuser};

/// `users ..`
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum UsersCommand {
    /// List users, newest first.
    List {
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Deactivate a user (by id, e-mail or username): their tokens stop working at once.
    Deactivate {
        /// Id, e-mail address or username.
        user: String,
    },
    /// Reactivate a deactivated user.
    Activate {
        /// Id, e-mail address or username.
        user: String,
    },
}

/// `roles ..`
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum RolesCommand {
    /// List roles with their permissions and member counts.
    List {
        /// Only this project's roles (default: every role).
        #[arg(long)]
        project: Option<i64>,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Give a user a role (created when missing), globally or in a project.
    Grant {
        /// Id, e-mail address or username.
        user: String,
        /// The role's name.
        role: String,
        /// The project (default: global).
        #[arg(long)]
        project: Option<i64>,
    },
    /// Take a role away from a user.
    Revoke {
        /// Id, e-mail address or username.
        user: String,
        /// The role's name.
        role: String,
        /// The project (default: global).
        #[arg(long)]
        project: Option<i64>,
    },
}

/// `perms ..`
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum PermsCommand {
    /// List permissions and the roles that hold them.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Give a role a permission (both created when missing).
    Grant {
        /// The role's name.
        role: String,
        /// The permission's codename (`invoices.approve`).
        codename: String,
        /// The role's project (default: the global role).
        #[arg(long)]
        project: Option<i64>,
    },
    /// Take a permission away from a role.
    Revoke {
        /// The role's name.
        role: String,
        /// The permission's codename.
        codename: String,
        /// The role's project (default: the global role).
        #[arg(long)]
        project: Option<i64>,
    },
}

/// `createapp NAME [--public] [--client-id ID [--client-secret S]]`: the given
/// credentials keep a deployed app's compiled-in ones working after a migration.
pub(super) async fn createapp(
    stack: &Stack,
    name: &str,
    public: bool,
    client_id: Option<String>,
    client_secret: Option<String>,
) -> Result<ExitCode, BoxError> {
    let client_type = if public { ClientType::Public } else { ClientType::Confidential };
    let created = match client_id {
        Some(id) => stack.oauth.import_application(name, client_type, &id, client_secret.as_deref()).await?,
        None if client_secret.is_some() => return Err("--client-secret needs --client-id".into()),
        None => stack.oauth.create_application(name, client_type).await?,
    };
    // The only time the secret is shown: one JSON line a script can read.
    println!("{}", serde_json::to_string(&created)?);
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn createsuperuser(
    stack: &Stack,
    email: Option<String>,
    username: Option<String>,
) -> Result<ExitCode, BoxError> {
    let email = match email {
        Some(email) => email,
        None if std::io::stdin().is_terminal() => prompt("E-mail address: ")?,
        None => return Err("--email is required (no terminal to ask on)".into()),
    };
    let email =
        crate::Email::parse(email.trim()).ok_or_else(|| format!("'{}' is not a valid e-mail address", email.trim()))?;
    // A username is the login of an app with NETS_CORE_USER_IDENTIFIER = "username".
    let username = match username {
        None if stack.settings.user_identifier == crate::settings::Identifier::Username => {
            if !std::io::stdin().is_terminal() {
                return Err(
                    "--username is required with NETS_CORE_USER_IDENTIFIER = \"username\" (no terminal to ask on)"
                        .into(),
                );
            }
            Some(prompt("Username: ")?)
        }
        username => username,
    };
    let username = username.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
    let taken = format!("the username '{}' is taken", username.as_deref().unwrap_or_default());
    let (id, created) = match create_superuser(&stack.db, email.clone(), username).await {
        Err(CreateUserError::Exists) => return Err(taken.into()),
        result => result?,
    };
    // Cached bearer lookups carry the superuser flag.
    stack.oauth.invalidate_tokens().await?;
    println!("{}", serde_json::json!({"id": id, "email": email, "created": created}));
    Ok(ExitCode::SUCCESS)
}

fn prompt(question: &str) -> Result<String, BoxError> {
    eprint!("{question}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

/// A user as `users list` shows it.
#[derive(Debug, Serialize, sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    username: Option<String>,
    is_active: bool,
    is_superuser: bool,
    last_login: Option<String>,
}

pub(super) async fn users(stack: &Stack, command: UsersCommand) -> Result<ExitCode, BoxError> {
    let db = &stack.db;
    match command {
        UsersCommand::List { limit, json } => {
            const SQL: &str = "SELECT id, email, username, is_active, is_superuser, CAST(last_login AS TEXT) AS last_login \
                 FROM nets_user ORDER BY id DESC LIMIT $1";
            let rows: Vec<UserRow> = on_pool!(db, |pool| sqlx::query_as(SQL).bind(limit).fetch_all(pool).await?);
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("{:>8}  {:<32} {:<20} {:<8} {:<10} last login", "id", "email", "username", "active", "superuser");
            for u in &rows {
                println!(
                    "{:>8}  {:<32} {:<20} {:<8} {:<10} {}",
                    u.id,
                    u.email,
                    u.username.as_deref().unwrap_or("-"),
                    u.is_active,
                    u.is_superuser,
                    u.last_login.as_deref().unwrap_or("never")
                );
            }
            eprintln!("{} user(s)", rows.len());
        }
        UsersCommand::Deactivate { user } => set_active(stack, &user, false).await?,
        UsersCommand::Activate { user } => set_active(stack, &user, true).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn set_active(stack: &Stack, user: &str, active: bool) -> Result<(), BoxError> {
    let (id, email) = find_user(&stack.db, user).await?;
    const SQL: &str = "UPDATE nets_user SET is_active = $1 WHERE id = $2";
    let db = &stack.db;
    on_pool!(db, |pool| sqlx::query(SQL).bind(active).bind(id).execute(pool).await.map(|_| ())?);
    // Bearer lookups check `is_active`; cached ones are dropped now.
    stack.oauth.invalidate_tokens().await?;
    println!("{}", serde_json::json!({"id": id, "email": email, "is_active": active}));
    Ok(())
}

/// `(id, email)` of the user `reference` names: an id, an e-mail address or a username.
async fn find_user(db: &Db, reference: &str) -> Result<(i64, String), BoxError> {
    const SQL: &str = "SELECT id, email FROM nets_user WHERE id = $1 OR lower(email) = $2 OR lower(username) = $2";
    let reference = reference.trim();
    let id = reference.parse::<i64>().unwrap_or(0);
    let lowered = reference.to_lowercase();
    let found: Option<(i64, String)> =
        on_pool!(db, |pool| sqlx::query_as(SQL).bind(id).bind(&lowered).fetch_optional(pool).await?);
    found.ok_or_else(|| format!("no user '{reference}' (give an id, e-mail address or username)").into())
}

fn perms_of(stack: &Stack) -> Result<&Perms, BoxError> {
    stack.perms.as_ref().ok_or_else(|| "permissions are turned off in this app".into())
}

/// A role as `roles list` shows it.
#[derive(Debug, Serialize)]
struct RoleRow {
    id: i64,
    name: String,
    project_id: Option<i64>,
    enabled: bool,
    members: i64,
    permissions: Vec<String>,
}

pub(super) async fn roles(stack: &Stack, command: RolesCommand) -> Result<ExitCode, BoxError> {
    match command {
        RolesCommand::List { project, json } => {
            let rows = role_rows(&stack.db, project).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("{:>6}  {:<24} {:<10} {:<8} {:>7}  permissions", "id", "role", "scope", "enabled", "members");
            for r in &rows {
                let scope = r.project_id.map_or_else(|| "global".to_owned(), |p| format!("project {p}"));
                let perms = r.permissions.join(", ");
                println!("{:>6}  {:<24} {:<10} {:<8} {:>7}  {perms}", r.id, r.name, scope, r.enabled, r.members);
            }
            eprintln!("{} role(s)", rows.len());
        }
        RolesCommand::Grant { user, role, project } => {
            let (id, email) = find_user(&stack.db, &user).await?;
            let added = perms_of(stack)?.add_user_to_role(id, project, &role).await?;
            let report =
                serde_json::json!({"user": id, "email": email, "role": role, "project_id": project, "changed": added});
            println!("{report}");
        }
        RolesCommand::Revoke { user, role, project } => {
            let (id, email) = find_user(&stack.db, &user).await?;
            let removed = perms_of(stack)?.remove_user_from_role(id, project, &role).await?;
            let report = serde_json::json!({"user": id, "email": email, "role": role, "project_id": project, "changed": removed});
            println!("{report}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn role_rows(db: &Db, project: Option<i64>) -> Result<Vec<RoleRow>, BoxError> {
    const ROLES: &str = "SELECT r.id, r.name, r.project_id, r.enabled, \
         (SELECT COUNT(*) FROM nets_user_role ur WHERE ur.role_id = r.id) AS members \
         FROM nets_role r WHERE ($1 IS NULL OR r.project_id = $1) ORDER BY r.project_id IS NOT NULL, r.project_id, r.name";
    const GRANTS: &str = "SELECT rp.role_id, p.codename FROM nets_role_permission rp \
         JOIN nets_permission p ON p.id = rp.permission_id ORDER BY p.codename";
    type Role = (i64, String, Option<i64>, bool, i64);
    let roles: Vec<Role> = on_pool!(db, |pool| sqlx::query_as(ROLES).bind(project).fetch_all(pool).await?);
    let grants: Vec<(i64, String)> = on_pool!(db, |pool| sqlx::query_as(GRANTS).fetch_all(pool).await?);
    Ok(roles
        .into_iter()
        .map(|(id, name, project_id, enabled, members)| RoleRow {
            id,
            name,
            project_id,
            enabled,
            members,
            permissions: grants.iter().filter(|(role, _)| *role == id).map(|(_, c)| c.clone()).collect(),
        })
        .collect())
}

/// A permission as `perms list` shows it.
#[derive(Debug, Serialize)]
struct PermRow {
    codename: String,
    name: String,
    /// `role` (global) or `role@project`.
    roles: Vec<String>,
}

pub(super) async fn perms(stack: &Stack, command: PermsCommand) -> Result<ExitCode, BoxError> {
    match command {
        PermsCommand::List { json } => {
            const PERMS: &str = "SELECT id, codename, name FROM nets_permission ORDER BY codename";
            const HOLDERS: &str = "SELECT rp.permission_id, r.name, r.project_id FROM nets_role_permission rp \
                 JOIN nets_role r ON r.id = rp.role_id ORDER BY r.name";
            let db = &stack.db;
            let perms: Vec<(i64, String, String)> = on_pool!(db, |pool| sqlx::query_as(PERMS).fetch_all(pool).await?);
            let holders: Vec<(i64, String, Option<i64>)> =
                on_pool!(db, |pool| sqlx::query_as(HOLDERS).fetch_all(pool).await?);
            let rows: Vec<PermRow> = perms
                .into_iter()
                .map(|(id, codename, name)| PermRow {
                    codename,
                    name,
                    roles: holders
                        .iter()
                        .filter(|(perm, _, _)| *perm == id)
                        .map(|(_, role, project)| project.map_or_else(|| role.clone(), |p| format!("{role}@{p}")))
                        .collect(),
                })
                .collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("{:<32} {:<32} roles", "codename", "name");
            for p in &rows {
                println!("{:<32} {:<32} {}", p.codename, p.name, p.roles.join(", "));
            }
            eprintln!("{} permission(s)", rows.len());
        }
        PermsCommand::Grant { role, codename, project } => {
            let perms = perms_of(stack)?;
            let (permission, created) = match project {
                Some(project) => perms.get_or_create_project_role_permission(project, &role, &codename).await?,
                None => perms.get_or_create_role_permission(&role, &codename).await?,
            };
            let report = serde_json::json!({"role": role, "project_id": project, "codename": permission.codename, "permission_created": created});
            println!("{report}");
        }
        PermsCommand::Revoke { role, codename, project } => {
            let revoked = perms_of(stack)?.revoke_role_permission(project, &role, &codename).await?;
            println!(
                "{}",
                serde_json::json!({"role": role, "project_id": project, "codename": codename, "changed": revoked})
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
