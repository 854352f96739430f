//! Writing what was read into nets' tables, kind by kind, each row matched by its
//! natural key: inserted when missing, updated only where a value differs
//! (`IS DISTINCT FROM`, on both backends), so a second run reports every row unchanged.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::tx::{Outcome, Tx, on_tx};
use super::{ImportError, Report, app_tables, rows, source::timestamp};
use crate::Settings;
use crate::oauth::{OAuth, django_hasher};
use crate::perms::codename;

/// Everything read from Django.
pub(crate) struct Django {
    pub users: Vec<rows::User>,
    pub devices: Vec<rows::Device>,
    pub applications: Vec<rows::Application>,
    pub permissions: Vec<rows::Permission>,
    pub roles: Vec<rows::Role>,
    pub role_permissions: Vec<rows::RolePermission>,
    pub user_roles: Vec<rows::UserRole>,
    pub templates: Vec<rows::Template>,
    pub tokens: Vec<rows::Token>,
    pub app_tables: Vec<app_tables::Table>,
}

pub(crate) async fn all(
    tx: &mut Tx,
    django: &Django,
    oauth: &OAuth,
    settings: &Settings,
    report: &mut Report,
) -> Result<(), ImportError> {
    let apply = report.applied;
    if tx.is_postgres() {
        // Django's SQLite timestamps are UTC without an offset.
        on_tx!(tx, |c| sqlx::query("SET LOCAL TimeZone = 'UTC'").execute(&mut **c).await.map(drop))?;
    }
    let now = Utc::now();
    let users = users(tx, &django.users, now, report).await?;
    devices(tx, &django.devices, &users, now, report).await?;
    applications(tx, &django.applications, oauth, now, report).await?;
    let project_table = settings.project_tables().ok().flatten().map(|(project, _)| project.to_owned());
    let scope = Scope { table: project_table.as_deref() };
    let permissions = permissions(tx, &django.permissions, now, report).await?;
    let roles = roles(tx, &django.roles, scope, now, report).await?;
    role_permissions(tx, &django.role_permissions, &roles, &permissions, now, report).await?;
    app_tables::write(tx, &django.app_tables, &users, apply, report).await?;
    user_roles(tx, &django.user_roles, &users, &roles, scope, report).await?;
    templates(tx, &django.templates, &users, scope, now, report).await?;
    if !django.tokens.is_empty() {
        tokens(tx, &django.tokens, &users, oauth, settings, now, report).await?;
    }
    if tx.is_postgres() && apply {
        // Ids were given explicitly: new users must not collide with them (not in a dry
        // run: sequences are not transactional).
        const SEQUENCE: &str = "SELECT setval(pg_get_serial_sequence('nets_user', 'id'), \
                                (SELECT COALESCE(MAX(id), 0) + 1 FROM nets_user), false)";
        on_tx!(tx, |c| sqlx::query(SEQUENCE).execute(&mut **c).await.map(drop))?;
    }
    Ok(())
}

/// Which project rows belong to: those whose content type is nets' project table
/// (`NETS_CORE_PROJECT_MODEL`, Django's default table name `app_label_model`).
#[derive(Clone, Copy)]
struct Scope<'a> {
    table: Option<&'a str>,
}

impl Scope<'_> {
    /// `Ok(None)`: global; `Ok(Some(id))`: in that project; `Err(why)`: not importable.
    fn project(&self, id: Option<i64>, table: Option<&str>) -> Result<Option<i64>, String> {
        match (id, self.table) {
            (None, _) => Ok(None),
            (Some(id), Some(ours)) if table == Some(ours) && id > 0 => Ok(Some(id)),
            (Some(id), Some(ours)) => Err(format!(
                "project {id} of {} is not a row of {ours} (NETS_CORE_PROJECT_MODEL)",
                table.unwrap_or("?")
            )),
            (Some(id), None) => Err(format!("project {id}: projects are not configured (NETS_CORE_PROJECT_MODEL)")),
        }
    }
}

fn non_empty(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// Users by id; returns the ids now in nets.
async fn users(
    tx: &mut Tx,
    users: &[rows::User],
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<HashSet<i64>, ImportError> {
    const ID_EMAIL: &str = "SELECT lower(email) FROM nets_user WHERE id = $1";
    const EMAIL_OWNER: &str = "SELECT id FROM nets_user WHERE lower(email) = lower($1)";
    const USERNAME_OWNER: &str = "SELECT id FROM nets_user WHERE lower(username) = lower($1)";
    const INSERT: &str = "INSERT INTO nets_user (id, email, username, first_name, last_name, is_active, is_staff, \
                          is_superuser, email_verified, last_login, date_joined) \
                          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, COALESCE($11, $12))";
    // A user model without `date_joined` leaves the stored one alone.
    const UPDATE: &str = "UPDATE nets_user SET email = $2, username = $3, first_name = $4, last_name = $5, \
                          is_active = $6, is_staff = $7, is_superuser = $8, email_verified = $9, last_login = $10, \
                          date_joined = COALESCE($11, date_joined), updated = $12 \
                          WHERE id = $1 AND (email IS DISTINCT FROM $2 OR username IS DISTINCT FROM $3 \
                          OR first_name IS DISTINCT FROM $4 OR last_name IS DISTINCT FROM $5 \
                          OR is_active IS DISTINCT FROM $6 OR is_staff IS DISTINCT FROM $7 \
                          OR is_superuser IS DISTINCT FROM $8 OR email_verified IS DISTINCT FROM $9 \
                          OR last_login IS DISTINCT FROM $10 OR ($11 IS NOT NULL AND date_joined IS DISTINCT FROM $11))";
    let mut imported = HashSet::new();
    for user in users {
        let Some(email) = non_empty(&user.email).map(str::to_owned) else {
            report.skip("users", format!("user {} has no e-mail address (nets users need one)", user.id));
            continue;
        };
        if let Some(owner) = tx.find(EMAIL_OWNER, email.clone()).await?.filter(|owner| *owner != user.id) {
            report.skip("users", format!("user {}: {email} belongs to nets user {owner} already", user.id));
            continue;
        }
        // The id is kept, so a nets row with it must be this person (an earlier import),
        // never someone made in nets meanwhile (`createsuperuser` before importing).
        let stored: Option<String> =
            on_tx!(tx, |c| sqlx::query_scalar(ID_EMAIL).bind(user.id).fetch_optional(&mut **c).await)?;
        if let Some(other) = stored.as_deref().filter(|stored| *stored != email.to_lowercase()) {
            report.skip("users", format!("user {} ({email}): nets user {} is {other}, someone else", user.id, user.id));
            continue;
        }
        // Django compares usernames exactly, nets whatever their case: `Bob` after `bob`
        // comes without one.
        let mut username = non_empty(&user.username).map(str::to_owned);
        if let Some(name) = username.clone()
            && tx.find(USERNAME_OWNER, name.clone()).await?.is_some_and(|owner| owner != user.id)
        {
            report.notes.push(format!("users: user {} keeps no username: {name} is taken, whatever its case", user.id));
            username = None;
        }
        let first = user.first_name.clone().unwrap_or_default();
        let last = user.last_name.clone().unwrap_or_default();
        let (active, staff, superuser, verified) =
            (user.is_active != 0, user.is_staff != 0, user.is_superuser != 0, user.email_verified != 0);
        let last_login = timestamp(user.last_login.as_deref());
        let joined = timestamp(user.date_joined.as_deref());
        let sql = if stored.is_some() { UPDATE } else { INSERT };
        let rows = on_tx!(tx, |c| {
            sqlx::query(sql)
                .bind(user.id)
                .bind(&email)
                .bind(&username)
                .bind(&first)
                .bind(&last)
                .bind(active)
                .bind(staff)
                .bind(superuser)
                .bind(verified)
                .bind(last_login)
                .bind(joined)
                .bind(now)
                .execute(&mut **c)
                .await
                .map(|done| done.rows_affected())
        })?;
        report.count("users", if sql == INSERT { Outcome::Created } else { Outcome::of_update(rows) });
        imported.insert(user.id);
    }
    Ok(imported)
}

/// Devices by uuid. A push token names one install, so where Django kept one token on
/// several rows, the device used last keeps it.
async fn devices(
    tx: &mut Tx,
    devices: &[rows::Device],
    users: &HashSet<i64>,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<(), ImportError> {
    const FIND: &str = "SELECT id FROM nets_user_device WHERE uuid = $1";
    const INSERT: &str = "INSERT INTO nets_user_device (uuid, user_id, name, os, os_version, app_version, device_type, \
                          firebase_token, active, ip, last_login) \
                          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
    const UPDATE: &str = "UPDATE nets_user_device SET user_id = $2, name = $3, os = $4, os_version = $5, \
                          app_version = $6, device_type = $7, firebase_token = $8, active = $9, ip = $10, \
                          last_login = $11, updated = $12 \
                          WHERE uuid = $1 AND (user_id IS DISTINCT FROM $2 OR name IS DISTINCT FROM $3 \
                          OR os IS DISTINCT FROM $4 OR os_version IS DISTINCT FROM $5 \
                          OR app_version IS DISTINCT FROM $6 OR device_type IS DISTINCT FROM $7 \
                          OR firebase_token IS DISTINCT FROM $8 OR active IS DISTINCT FROM $9 \
                          OR ip IS DISTINCT FROM $10 OR last_login IS DISTINCT FROM $11)";
    let keeper = token_keepers(devices);
    for (index, device) in devices.iter().enumerate() {
        let Ok(uuid) = uuid::Uuid::parse_str(device.uuid.trim()) else {
            report.skip("devices", format!("device {:?} has no valid uuid", device.uuid));
            continue;
        };
        if !users.contains(&device.user_id) {
            report.skip("devices", format!("device {uuid}: its user {} was not imported", device.user_id));
            continue;
        }
        let token = match non_empty(&device.firebase_token) {
            Some(token) if keeper.get(token) == Some(&index) => Some(token.to_owned()),
            Some(_) => {
                report.notes.push(format!("devices: device {uuid} shares its push token with a device used later"));
                None
            }
            None => None,
        };
        let last_login = timestamp(device.last_login.as_deref());
        let ip = device.ip.as_deref().map(|ip| ip.chars().take(64).collect::<String>());
        let sql = if tx.find(FIND, uuid).await?.is_some() { UPDATE } else { INSERT };
        let rows = on_tx!(tx, |c| {
            sqlx::query(sql)
                .bind(uuid)
                .bind(device.user_id)
                .bind(device.name.clone().unwrap_or_default())
                .bind(&device.os)
                .bind(&device.os_version)
                .bind(&device.app_version)
                .bind(&device.device_type)
                .bind(&token)
                .bind(device.active != 0)
                .bind(&ip)
                .bind(last_login)
                .bind(now)
                .execute(&mut **c)
                .await
                .map(|done| done.rows_affected())
        })?;
        report.count("devices", if sql == INSERT { Outcome::Created } else { Outcome::of_update(rows) });
    }
    Ok(())
}

/// For each push token, the index of the device that keeps it: the one with the latest
/// `last_login` (the latest row on a tie).
fn token_keepers(devices: &[rows::Device]) -> HashMap<&str, usize> {
    let mut keeper: HashMap<&str, usize> = HashMap::new();
    for (index, device) in devices.iter().enumerate() {
        let Some(token) = non_empty(&device.firebase_token) else { continue };
        let login = |i: usize| timestamp(devices[i].last_login.as_deref());
        match keeper.get(token) {
            Some(&held) if login(held) > login(index) => {}
            _ => {
                keeper.insert(token, index);
            }
        }
    }
    keeper
}

/// OAuth applications by client id.
async fn applications(
    tx: &mut Tx,
    applications: &[rows::Application],
    oauth: &OAuth,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<(), ImportError> {
    const FIND: &str = "SELECT client_secret_digest FROM nets_oauth_application WHERE client_id = $1";
    const INSERT: &str = "INSERT INTO nets_oauth_application (client_id, client_secret_digest, name, client_type) \
                          VALUES ($1, $2, $3, 'confidential')";
    const UPDATE: &str = "UPDATE nets_oauth_application SET client_secret_digest = $2, name = $3, \
                          client_type = 'confidential', updated = $4 \
                          WHERE client_id = $1 AND (client_secret_digest IS DISTINCT FROM $2 \
                          OR name IS DISTINCT FROM $3 OR client_type <> 'confidential')";
    for app in applications {
        let client_id = app.client_id.trim();
        if client_id.is_empty() || client_id.len() > 100 || !client_id.bytes().all(|b| b.is_ascii_graphic()) {
            report.skip("applications", format!("client id {client_id:?} is not printable ASCII of 1–100 characters"));
            continue;
        }
        let Some(secret) = non_empty(&app.client_secret) else {
            report.skip("applications", format!("{client_id}: no client secret"));
            continue;
        };
        let hashed = match app.hashed {
            -1 => django_hasher::is_django_hash(secret),
            flag => flag != 0,
        };
        let stored = if hashed {
            if !django_hasher::is_supported(secret) {
                let algorithm = secret.split('$').next().unwrap_or_default();
                report.skip(
                    "applications",
                    format!("{client_id}: its secret is hashed with {algorithm}, which nets cannot verify; give it a new one (createapp --client-id {client_id})"),
                );
                continue;
            }
            secret.to_owned()
        } else {
            oauth.client_secret_digest(secret)
        };
        if app.client_type == "public" {
            // Every client of the original sends its secret to /authenticate/; kept
            // confidential, the clients keep working.
            report.notes.push(format!("applications: {client_id} is public in Django: imported as confidential with its secret, which its clients send"));
        }
        let name = app.name.clone().unwrap_or_default();
        let existing: Option<Option<String>> =
            on_tx!(tx, |c| sqlx::query_scalar(FIND).bind(client_id).fetch_optional(&mut **c).await)?;
        let outcome = match existing {
            None => {
                on_tx!(tx, |c| sqlx::query(INSERT)
                    .bind(client_id)
                    .bind(&stored)
                    .bind(&name)
                    .execute(&mut **c)
                    .await
                    .map(drop))?;
                Outcome::Created
            }
            Some(current) => {
                // A Django hash already proven and replaced by nets' digest stays replaced.
                let upgraded = django_hasher::is_django_hash(&stored)
                    && current.as_deref().is_some_and(|c| !django_hasher::is_django_hash(c));
                let stored = if upgraded { current.unwrap_or_default() } else { stored };
                let rows = on_tx!(tx, |c| sqlx::query(UPDATE)
                    .bind(client_id)
                    .bind(&stored)
                    .bind(&name)
                    .bind(now)
                    .execute(&mut **c)
                    .await
                    .map(|done| done.rows_affected()))?;
                Outcome::of_update(rows)
            }
        };
        report.count("applications", outcome);
    }
    Ok(())
}

/// Permissions by lower-case codename; returns Django id → nets id.
async fn permissions(
    tx: &mut Tx,
    permissions: &[rows::Permission],
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<HashMap<i64, i64>, ImportError> {
    const FIND: &str = "SELECT id FROM nets_permission WHERE lower(codename) = $1 AND project_id IS NULL";
    const INSERT: &str = "INSERT INTO nets_permission (codename, name, description) VALUES ($1, $2, $3) RETURNING id";
    const UPDATE: &str = "UPDATE nets_permission SET name = $2, description = $3, updated = $4 \
                          WHERE id = $1 AND (name IS DISTINCT FROM $2 OR description IS DISTINCT FROM $3)";
    let (mut ids, mut seen) = (HashMap::new(), HashMap::new());
    for permission in permissions {
        let Ok(codename) = codename::permission(&permission.codename) else {
            report.skip(
                "permissions",
                format!("{:?} is not a codename nets checks (action or app.action)", permission.codename),
            );
            continue;
        };
        // `Foo` and `foo` are two Django rows and one nets permission: the first one's name.
        if let Some(&id) = seen.get(&codename) {
            ids.insert(permission.id, id);
            continue;
        }
        let name = non_empty(&permission.name).map_or_else(|| codename::default_name(&codename), str::to_owned);
        let description = non_empty(&permission.description).map(str::to_owned);
        let (id, outcome) = match tx.find(FIND, codename.clone()).await? {
            Some(id) => {
                let rows = on_tx!(tx, |c| sqlx::query(UPDATE)
                    .bind(id)
                    .bind(&name)
                    .bind(&description)
                    .bind(now)
                    .execute(&mut **c)
                    .await
                    .map(|done| done.rows_affected()))?;
                (id, Outcome::of_update(rows))
            }
            None => {
                let id: i64 = on_tx!(tx, |c| sqlx::query_scalar(INSERT)
                    .bind(&codename)
                    .bind(&name)
                    .bind(&description)
                    .fetch_one(&mut **c)
                    .await)?;
                (id, Outcome::Created)
            }
        };
        report.count("permissions", outcome);
        ids.insert(permission.id, id);
        seen.insert(codename, id);
    }
    Ok(ids)
}

/// Roles by name (Django's lower-case codename, else its name) and project; returns
/// Django id → nets id. Django roles that share a codename in one scope become one role.
async fn roles(
    tx: &mut Tx,
    roles: &[rows::Role],
    scope: Scope<'_>,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<HashMap<i64, i64>, ImportError> {
    const FIND: &str = "SELECT id FROM nets_role WHERE name = $1 AND COALESCE(project_id, 0) = $2";
    const INSERT: &str =
        "INSERT INTO nets_role (name, description, enabled, project_id) VALUES ($1, $2, $3, $4) RETURNING id";
    const UPDATE: &str = "UPDATE nets_role SET description = $2, enabled = $3, updated = $4 \
                          WHERE id = $1 AND (description IS DISTINCT FROM $2 OR enabled IS DISTINCT FROM $3)";
    let (mut ids, mut made): (HashMap<i64, i64>, HashSet<i64>) = (HashMap::new(), HashSet::new());
    for role in roles {
        let Some(name) = role_name(role) else {
            report.skip("roles", format!("role {} has neither codename nor name", role.id));
            continue;
        };
        let project = match scope.project(role.project_id, role.project_table.as_deref()) {
            Ok(project) => project,
            Err(why) => {
                report.skip("roles", format!("role {name}: {why}"));
                continue;
            }
        };
        let key = project.unwrap_or(0);
        let found =
            on_tx!(tx, |c| sqlx::query_scalar::<_, i64>(FIND).bind(&name).bind(key).fetch_optional(&mut **c).await)?;
        if let Some(id) = found.filter(|id| made.contains(id)) {
            report.notes.push(format!("roles: Django role {} shares the name {name} with another: merged", role.id));
            ids.insert(role.id, id);
            continue;
        }
        let description = non_empty(&role.description).or(non_empty(&role.name)).unwrap_or_default().to_owned();
        let enabled = role.enabled != 0;
        let (id, outcome) = match found {
            Some(id) => {
                let rows = on_tx!(tx, |c| sqlx::query(UPDATE)
                    .bind(id)
                    .bind(&description)
                    .bind(enabled)
                    .bind(now)
                    .execute(&mut **c)
                    .await
                    .map(|done| done.rows_affected()))?;
                (id, Outcome::of_update(rows))
            }
            None => {
                let id: i64 = on_tx!(tx, |c| sqlx::query_scalar(INSERT)
                    .bind(&name)
                    .bind(&description)
                    .bind(enabled)
                    .bind(project)
                    .fetch_one(&mut **c)
                    .await)?;
                (id, Outcome::Created)
            }
        };
        report.count("roles", outcome);
        ids.insert(role.id, id);
        made.insert(id);
    }
    Ok(ids)
}

/// A role's nets name: Django's codename (lower-case), else its name. The original's
/// `get_or_create_project_role(project, "editor")` names the role `editor_<project id>`
/// with no codename; in nets a project role is `editor` in that project.
fn role_name(role: &rows::Role) -> Option<String> {
    if let Some(codename) = non_empty(&role.codename) {
        return Some(codename.to_lowercase());
    }
    let name = non_empty(&role.name)?.to_lowercase();
    let suffix = role.project_id.map(|id| format!("_{id}"));
    Some(match suffix.as_deref().and_then(|s| name.strip_suffix(s)) {
        Some(base) if !base.is_empty() => base.to_owned(),
        _ => name,
    })
}

async fn role_permissions(
    tx: &mut Tx,
    links: &[rows::RolePermission],
    roles: &HashMap<i64, i64>,
    permissions: &HashMap<i64, i64>,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<(), ImportError> {
    const FIND: &str = "SELECT id FROM nets_role_permission WHERE role_id = $1 AND permission_id = $2";
    const INSERT: &str = "INSERT INTO nets_role_permission (role_id, permission_id, custom_name) VALUES ($1, $2, $3)";
    const UPDATE: &str = "UPDATE nets_role_permission SET custom_name = $2, updated = $3 \
                          WHERE id = $1 AND custom_name IS DISTINCT FROM $2";
    let mut seen = HashSet::new();
    for link in links {
        let (Some(&role), Some(&permission)) = (roles.get(&link.role_id), permissions.get(&link.permission_id)) else {
            report.skip(
                "role permissions",
                format!("role {} → permission {}: one of them was not imported", link.role_id, link.permission_id),
            );
            continue;
        };
        if !seen.insert((role, permission)) {
            continue; // Django allowed the same pair twice; nets keeps one.
        }
        let custom = non_empty(&link.custom_name).map(str::to_owned);
        let found = on_tx!(tx, |c| sqlx::query_scalar::<_, i64>(FIND)
            .bind(role)
            .bind(permission)
            .fetch_optional(&mut **c)
            .await)?;
        let outcome = match found {
            Some(id) => Outcome::of_update(on_tx!(tx, |c| sqlx::query(UPDATE)
                .bind(id)
                .bind(&custom)
                .bind(now)
                .execute(&mut **c)
                .await
                .map(|done| done.rows_affected()))?),
            None => {
                on_tx!(tx, |c| sqlx::query(INSERT)
                    .bind(role)
                    .bind(permission)
                    .bind(&custom)
                    .execute(&mut **c)
                    .await
                    .map(drop))?;
                Outcome::Created
            }
        };
        report.count("role permissions", outcome);
    }
    Ok(())
}

async fn user_roles(
    tx: &mut Tx,
    grants: &[rows::UserRole],
    users: &HashSet<i64>,
    roles: &HashMap<i64, i64>,
    scope: Scope<'_>,
    report: &mut Report,
) -> Result<(), ImportError> {
    const FIND: &str =
        "SELECT id FROM nets_user_role WHERE user_id = $1 AND role_id = $2 AND COALESCE(project_id, 0) = $3";
    const INSERT: &str = "INSERT INTO nets_user_role (user_id, role_id, project_id) VALUES ($1, $2, $3)";
    let mut seen = HashSet::new();
    for grant in grants {
        let (true, Some(&role)) = (users.contains(&grant.user_id), roles.get(&grant.role_id)) else {
            report.skip(
                "user roles",
                format!("user {} → role {}: one of them was not imported", grant.user_id, grant.role_id),
            );
            continue;
        };
        let project = match scope.project(grant.project_id, grant.project_table.as_deref()) {
            Ok(project) => project,
            Err(why) => {
                report.skip("user roles", format!("user {} → role {}: {why}", grant.user_id, grant.role_id));
                continue;
            }
        };
        if !seen.insert((grant.user_id, role, project)) {
            continue;
        }
        let found = on_tx!(tx, |c| sqlx::query_scalar::<_, i64>(FIND)
            .bind(grant.user_id)
            .bind(role)
            .bind(project.unwrap_or(0))
            .fetch_optional(&mut **c)
            .await)?;
        if found.is_none() {
            on_tx!(tx, |c| sqlx::query(INSERT)
                .bind(grant.user_id)
                .bind(role)
                .bind(project)
                .execute(&mut **c)
                .await
                .map(drop))?;
        }
        report.count("user roles", if found.is_some() { Outcome::Unchanged } else { Outcome::Created });
    }
    Ok(())
}

async fn templates(
    tx: &mut Tx,
    templates: &[rows::Template],
    users: &HashSet<i64>,
    scope: Scope<'_>,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<(), ImportError> {
    const FIND: &str = "SELECT id FROM nets_email_template WHERE name = $1";
    const INSERT: &str = "INSERT INTO nets_email_template (name, html_body, text_body, enabled, use_for, user_id, \
                          project_id) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    const UPDATE: &str = "UPDATE nets_email_template SET html_body = $2, text_body = $3, enabled = $4, use_for = $5, \
                          user_id = $6, project_id = $7, updated = $8 \
                          WHERE name = $1 AND (html_body IS DISTINCT FROM $2 OR text_body IS DISTINCT FROM $3 \
                          OR enabled IS DISTINCT FROM $4 OR use_for IS DISTINCT FROM $5 \
                          OR user_id IS DISTINCT FROM $6 OR project_id IS DISTINCT FROM $7)";
    for template in templates {
        let project = match scope.project(template.project_id, template.project_table.as_deref()) {
            Ok(project) => project,
            Err(why) => {
                report.skip("templates", format!("{}: {why}", template.name));
                continue;
            }
        };
        let use_for = match template.use_for.as_deref() {
            Some(kind @ ("verification_code" | "other")) => kind,
            other => {
                report.notes.push(format!("templates: {}: use_for {other:?} imported as 'other'", template.name));
                "other"
            }
        };
        let owner = template.user_id.filter(|id| users.contains(id));
        let html = template.html_body.clone().unwrap_or_default();
        let sql = if tx.find(FIND, template.name.clone()).await?.is_some() { UPDATE } else { INSERT };
        let rows = on_tx!(tx, |c| {
            sqlx::query(sql)
                .bind(&template.name)
                .bind(&html)
                .bind(&template.text_body)
                .bind(template.enabled != 0)
                .bind(use_for)
                .bind(owner)
                .bind(project)
                .bind(now)
                .execute(&mut **c)
                .await
                .map(|done| done.rows_affected())
        })?;
        report.count("templates", if sql == INSERT { Outcome::Created } else { Outcome::of_update(rows) });
    }
    Ok(())
}

/// Unexpired access tokens (and their refresh tokens) as digests, each pair a new
/// token family.
async fn tokens(
    tx: &mut Tx,
    tokens: &[rows::Token],
    users: &HashSet<i64>,
    oauth: &OAuth,
    settings: &Settings,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<(), ImportError> {
    const APP: &str = "SELECT id FROM nets_oauth_application WHERE client_id = $1";
    const FIND_ACCESS: &str = "SELECT id FROM nets_access_token WHERE token_digest = $1";
    const INSERT_ACCESS: &str = "INSERT INTO nets_access_token (token_digest, user_id, application_id, family, scope, \
                                 expires) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
    const FIND_REFRESH: &str = "SELECT id FROM nets_refresh_token WHERE token_digest = $1";
    const INSERT_REFRESH: &str = "INSERT INTO nets_refresh_token (token_digest, access_token_id, user_id, \
                                  application_id, family, expires) VALUES ($1, $2, $3, $4, $5, $6)";
    let refresh_ttl =
        chrono::Duration::seconds(i64::try_from(settings.refresh_token_expire_seconds).unwrap_or(i64::MAX / 1000));
    for token in tokens {
        let Some(expires) = timestamp(token.expires.as_deref()).filter(|expires| *expires > now) else {
            continue; // expired: nothing to carry
        };
        if !users.contains(&token.user_id) {
            report.skip("tokens", format!("a token of user {}, who was not imported", token.user_id));
            continue;
        }
        let Some(app) = tx.find(APP, token.client_id.clone()).await? else {
            report.skip("tokens", format!("a token of application {}, which was not imported", token.client_id));
            continue;
        };
        let digest = oauth.token_digest(&token.token);
        if tx.find(FIND_ACCESS, digest.clone()).await?.is_some() {
            report.count("tokens", Outcome::Unchanged);
            continue;
        }
        let family = uuid::Uuid::new_v4();
        let scope = token.scope.clone().unwrap_or_default();
        let access: i64 = on_tx!(tx, |c| sqlx::query_scalar(INSERT_ACCESS)
            .bind(&digest)
            .bind(token.user_id)
            .bind(app)
            .bind(family)
            .bind(&scope)
            .bind(expires)
            .fetch_one(&mut **c)
            .await)?;
        if let Some(refresh) = non_empty(&token.refresh_token) {
            let digest = oauth.token_digest(refresh);
            if tx.find(FIND_REFRESH, digest.clone()).await?.is_none() {
                on_tx!(tx, |c| sqlx::query(INSERT_REFRESH)
                    .bind(&digest)
                    .bind(access)
                    .bind(token.user_id)
                    .bind(app)
                    .bind(family)
                    .bind(now + refresh_ttl)
                    .execute(&mut **c)
                    .await
                    .map(drop))?;
            }
        }
        report.count("tokens", Outcome::Created);
    }
    Ok(())
}
