//! Roles, permissions and projects: `can_do` answered from roles and grants, global or
//! per project, with each user's effective permissions cached per scope.
//!
//! # Model
//!
//! * a **permission** is a codename, `action` or `app.action`, compared case-insensitively
//!   (`nets_permission`);
//! * a **role** has a name, an `enabled` flag and optionally a project; it holds
//!   permissions (`nets_role`, `nets_role_permission`);
//! * a user holds roles globally or in a project (`nets_user_role`);
//! * **projects** and **memberships** are the application's own tables (see
//!   [`ProjectTables`], or implement [`ProjectSource`]). A membership may make its user a
//!   project superuser, may be disabled, and may carry a role name for `role:<name>`.
//!
//! # `check_perm(user, action, project)`
//!
//! 1. a global superuser passes every check;
//! 2. without a project: the permissions of the user's enabled **global** roles;
//! 3. with a project: no membership, or a disabled one → denied; a project superuser
//!    passes; `role:<name>` compares with the member's role (no role → denied);
//!    anything else: the permissions of the user's enabled roles **in that project**.
//!
//! Fixed from the original (its §16 defect 24): unknown codenames are never created by a
//! check and are denied every time; codenames are case-insensitive; disabled roles grant
//! nothing anywhere; a role held in project A grants nothing in project B or globally; a
//! text role works for `role:`; anonymous callers are denied, not a 500.
//!
//! # Caching
//!
//! A check reads one shared *generation token* ([`sync`]) and then, when the token is
//! unchanged, the cached permission set of the (user, scope): no database query. Every
//! change made through [`Perms`] writes a new token, so the next request on any instance
//! sees it. Changes made behind nets' back (SQL on these tables, your membership table)
//! need [`Perms::invalidate`]; `NETS_CORE_PERMISSIONS_CACHE_SECONDS` bounds how long a
//! forgotten one can last.
//!
//! ```no_run
//! use nets_runtime::perms::Perms;
//! use nets_runtime::prelude::*;
//!
//! #[request_handler(path = "docs/{project_id}/publish/", method = POST, can_do = "docs.publish", perm_required, project_required)]
//! async fn publish(project_id: i64) -> ApiResult<i64> {
//!     Ok(project_id)
//! }
//!
//! # async fn demo() -> anyhow::Result<()> {
//! let settings = Settings::load()?;
//! let db = nets_runtime::db::Db::from_settings(&settings).await?;
//! let perms = Perms::from_settings(&settings, &db).await?;
//! perms.get_or_create_project_role_permission(1, "editor", "docs.publish").await?;
//! perms.add_user_to_role(7, Some(1), "editor").await?;
//! let app = App::builder(settings).database(db).install(perms).build()?;
//! # let _ = app;
//! # Ok(()) }
//! ```

pub(crate) mod cache;
pub(crate) mod codename;
mod projects;
mod store;
pub mod sync;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

pub use codename::MAX_CODENAME_LEN;
pub use projects::{ProjectMatch, ProjectSource, ProjectTables};
pub use store::{Permission, Role};
pub use sync::{ChangeSync, DatabaseSync, LocalSync};

use self::cache::{Key, Scope, ScopeCache};
use self::codename::Action;
use crate::auth::{AuthUser, MaybeAsync, PermissionChecker, ProjectLookup};
use crate::db::Db;
use crate::routing::Endpoint;
use crate::settings::{PermissionsStartup, SettingsError};
use crate::{ApiError, AppBuilder, Ctx, Project, Settings};

/// A roles-and-permissions problem.
#[derive(Debug, thiserror::Error)]
pub enum PermsError {
    /// Not `action`, `app.action` (letters, digits, `_`, `-`) or `role:<name>`.
    #[error("invalid permission codename '{0}': write 'action' or 'app.action' (letters, digits, '_' and '-')")]
    InvalidCodename(String),
    /// Empty or longer than 150 characters.
    #[error("invalid role name '{0}': 1 to 150 characters")]
    InvalidRoleName(String),
    /// No project has this id.
    #[error("no project {0}")]
    UnknownProject(i64),
    /// No user has this id.
    #[error("no user {0}")]
    UnknownUser(i64),
    /// A project-scoped operation without a [`ProjectSource`].
    #[error(
        "projects are not configured: set NETS_CORE_PROJECT_MODEL and NETS_CORE_PROJECT_MEMBER_MODEL, or use PermsBuilder::projects"
    )]
    ProjectsNotConfigured,
    /// The project tables do not have the expected shape.
    #[error("project tables: {0}")]
    ProjectTables(String),
    /// `NETS_CORE_PERMISSIONS_STARTUP = 'verify'` and handlers use missing permissions.
    #[error("handlers declare permissions that do not exist in nets_permission: {0}")]
    Undeclared(String),
    /// Bad settings.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// The generation store (Redis) failed.
    #[error("permission sync: {0}")]
    Sync(String),
}

impl From<PermsError> for ApiError {
    fn from(e: PermsError) -> Self {
        match e {
            PermsError::InvalidCodename(_) | PermsError::InvalidRoleName(_) => ApiError::bad_request(e.to_string()),
            PermsError::UnknownProject(_) | PermsError::UnknownUser(_) => ApiError::NotFound,
            other => ApiError::internal(other),
        }
    }
}

/// nets' [`PermissionChecker`]: roles, grants and projects from the database, cached.
/// Cheap to clone. Install it with [`AppBuilder::install`](crate::AppBuilder::install).
#[derive(Clone)]
pub struct Perms(Arc<Inner>);

struct Inner {
    db: Db,
    projects: Option<Box<dyn ProjectSource>>,
    sync: Box<dyn ChangeSync>,
    /// `None`: caching off, every check asks the database.
    cache: Option<ScopeCache>,
}

/// Builds [`Perms`] by hand; [`Perms::from_settings`] is the usual way.
pub struct PermsBuilder {
    db: Db,
    projects: Option<Box<dyn ProjectSource>>,
    sync: Box<dyn ChangeSync>,
    max_age: Duration,
    max_entries: usize,
}

impl PermsBuilder {
    /// Where projects and memberships come from.
    pub fn projects(mut self, source: impl ProjectSource) -> Self {
        self.projects = Some(Box::new(source));
        self
    }
    /// How instances learn about changes (default [`LocalSync`]).
    pub fn sync(mut self, sync: impl ChangeSync) -> Self {
        self.sync = Box::new(sync);
        self
    }
    /// Longest use of a cached set (default 60 s; zero turns caching off) and most sets kept.
    pub fn cache(mut self, max_age: Duration, max_entries: usize) -> Self {
        self.max_age = max_age;
        self.max_entries = max_entries;
        self
    }
    /// Finishes.
    pub fn build(self) -> Perms {
        let cache =
            (!self.max_age.is_zero() && self.max_entries > 0).then(|| ScopeCache::new(self.max_age, self.max_entries));
        Perms(Arc::new(Inner { db: self.db, projects: self.projects, sync: self.sync, cache }))
    }
}

impl std::fmt::Debug for Perms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Perms")
            .field("projects", &self.0.projects.is_some())
            .field("cached", &self.0.cache.is_some())
            .finish_non_exhaustive()
    }
}

impl Perms {
    /// A builder over `db`: local sync, 60 s cache, no projects.
    pub fn builder(db: Db) -> PermsBuilder {
        PermsBuilder {
            db,
            projects: None,
            sync: Box::new(LocalSync::default()),
            max_age: Duration::from_secs(60),
            max_entries: 100_000,
        }
    }

    /// From the settings: project tables (`NETS_CORE_PROJECT_MODEL`,
    /// `NETS_CORE_PROJECT_MEMBER_MODEL`, checked now), the sync
    /// (`NETS_CORE_PERMISSIONS_SYNC`, `REDIS_URL`), the cache bounds, and the startup
    /// registration or verification of `can_do` codenames (`NETS_CORE_PERMISSIONS_STARTUP`).
    pub async fn from_settings(settings: &Settings, db: &Db) -> Result<Perms, PermsError> {
        let mut builder = Perms::builder(db.clone())
            .cache(Duration::from_secs(settings.permissions_cache_seconds), settings.permissions_cache_entries);
        if let Some((project, member)) = settings.project_tables()? {
            let tables = match settings.project_role_table()? {
                Some((roles, name)) => ProjectTables::with_role_table(db, project, member, roles, name).await?,
                None => ProjectTables::new(db, project, member).await?,
            };
            builder = builder.projects(tables);
        }
        builder.sync = sync::from_settings(settings, db, sync::Generation::Permissions).await?;
        let perms = builder.build();
        match settings.permissions_startup {
            PermissionsStartup::Off => {}
            PermissionsStartup::Register => {
                perms.register_declared().await?;
            }
            PermissionsStartup::Verify => perms.verify_declared().await?,
        }
        Ok(perms)
    }

    /// The [`Perms`] installed in the app, or a 500 when there are none (handlers can
    /// take `State<Perms>` instead: `build()` then refuses an app without them).
    pub fn from_ctx(ctx: &Ctx) -> Result<&Perms, ApiError> {
        ctx.state::<Perms>().ok_or_else(|| ApiError::internal("no Perms installed: use Perms::install"))
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.0.db
    }

    /// `check_perm(user, action, project)`: whether `user` may do `action`, globally or in
    /// project `project` (a project that does not exist grants nothing). See the module
    /// documentation for the rules.
    pub async fn check_perm(&self, user: &AuthUser, action: &str, project: Option<i64>) -> Result<bool, PermsError> {
        let action = codename::parse(action)?;
        if user.is_superuser {
            return Ok(true);
        }
        let Some(project) = project else {
            return Ok(match action {
                Action::Role(_) => false,
                Action::Permission(code) => self.scope((Some(user.id), None)).await?.grants.contains(&*code),
            });
        };
        let scope = self.scope((Some(user.id), Some(project))).await?;
        let Some(member) = scope.membership.as_ref().filter(|_| scope.exists) else { return Ok(false) };
        Ok(match decide_member(member, &action) {
            Some(known) => known,
            None => matches!(&action, Action::Permission(code) if scope.grants.contains(&**code)),
        })
    }

    /// The scope of `key`, from the cache when it is current.
    fn scope(&self, key: Key) -> MaybeAsync<'_, Result<Arc<Scope>, PermsError>> {
        let Some(cache) = &self.0.cache else {
            return MaybeAsync::boxed(async move { self.load(key).await.map(Arc::new) });
        };
        match self.0.sync.current() {
            MaybeAsync::Ready(Some(Ok(token))) => match cache.get(token, key) {
                Some(hit) => MaybeAsync::ready(Ok(hit)),
                None => MaybeAsync::boxed(self.load_and_keep(cache, token, key)),
            },
            pending => MaybeAsync::boxed(async move {
                match pending.await {
                    Ok(token) => match cache.get(token, key) {
                        Some(hit) => Ok(hit),
                        None => self.load_and_keep(cache, token, key).await,
                    },
                    // Without the token a cached set cannot be trusted: ask the database.
                    Err(e) => {
                        tracing::warn!(error = %e, "permission generation unavailable; checking uncached");
                        self.load(key).await.map(Arc::new)
                    }
                }
            }),
        }
    }

    async fn load_and_keep(&self, cache: &ScopeCache, token: u64, key: Key) -> Result<Arc<Scope>, PermsError> {
        let scope = Arc::new(self.load(key).await?);
        cache.put(token, key, scope.clone());
        Ok(scope)
    }

    /// Reads a scope from the database: the project and membership, then the grants
    /// (only for a caller they can matter to).
    async fn load(&self, (user, project): Key) -> Result<Scope, PermsError> {
        let (exists, membership) = match project {
            None => (true, None),
            Some(id) => {
                let source = self.0.projects.as_ref().ok_or(PermsError::ProjectsNotConfigured)?;
                match source.find(&self.0.db, id, user).await? {
                    ProjectMatch::Missing => (false, None),
                    ProjectMatch::Present(membership) => (true, membership),
                }
            }
        };
        let grants_matter = match (user, project) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(_), Some(_)) => membership.as_ref().is_some_and(|m| m.enabled && !m.is_superuser),
        };
        let grants = match user {
            Some(user) if grants_matter => store::grants(&self.0.db, user, project).await?,
            _ => HashSet::new(),
        };
        Ok(Scope::new(exists, membership, grants))
    }

    /// Records a change made behind nets' back (your membership table, SQL on the
    /// `nets_*` permission tables): every instance reloads on its next check.
    pub async fn invalidate(&self) -> Result<(), PermsError> {
        self.0.sync.changed().await
    }

    async fn project_must_exist(&self, project: i64) -> Result<(), PermsError> {
        let source = self.0.projects.as_ref().ok_or(PermsError::ProjectsNotConfigured)?;
        match source.find(&self.0.db, project, None).await? {
            ProjectMatch::Missing => Err(PermsError::UnknownProject(project)),
            ProjectMatch::Present(_) => Ok(()),
        }
    }

    async fn ensure_role(&self, project: Option<i64>, name: &str) -> Result<(Role, bool), PermsError> {
        let name = codename::role_name(name)?;
        if let Some(project) = project {
            self.project_must_exist(project).await?;
        }
        let (role, created) = store::ensure_role(&self.0.db, name, project).await?;
        if created {
            self.invalidate().await?;
        }
        Ok((role, created))
    }

    /// The role `name` of `project`, created when missing; `(role, created)`. Unlike the
    /// original, the name is kept as given (`editor`, not `editor_1`): the role row
    /// carries its project.
    pub async fn get_or_create_project_role(&self, project: i64, name: &str) -> Result<(Role, bool), PermsError> {
        self.ensure_role(Some(project), name).await
    }

    /// The global role `name`, created when missing; `(role, created)`.
    pub async fn get_or_create_role(&self, name: &str) -> Result<(Role, bool), PermsError> {
        self.ensure_role(None, name).await
    }

    /// Ensures the permission `codename` exists (global, named after the codename unless it
    /// exists already) and that the role `role` of `project` holds it; `(permission,
    /// created)` where `created` says whether the permission row is new.
    pub async fn get_or_create_project_role_permission(
        &self,
        project: i64,
        role: &str,
        codename: &str,
    ) -> Result<(Permission, bool), PermsError> {
        self.ensure_role_permission(Some(project), role, codename).await
    }

    /// [`get_or_create_project_role_permission`](Self::get_or_create_project_role_permission)
    /// for a global role.
    pub async fn get_or_create_role_permission(
        &self,
        role: &str,
        codename: &str,
    ) -> Result<(Permission, bool), PermsError> {
        self.ensure_role_permission(None, role, codename).await
    }

    async fn ensure_role_permission(
        &self,
        project: Option<i64>,
        role: &str,
        codename: &str,
    ) -> Result<(Permission, bool), PermsError> {
        let (role, _) = self.ensure_role(project, role).await?;
        let (permission, created) = self.register_permission(codename, None, None).await?;
        if store::grant(&self.0.db, role.id, permission.id).await? {
            self.invalidate().await?;
        }
        Ok((permission, created))
    }

    /// Ensures the global permission `codename` exists; `(permission, created)`. The name
    /// defaults to the action in words (`docs.can_publish` → `Can publish`).
    pub async fn register_permission(
        &self,
        codename: &str,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<(Permission, bool), PermsError> {
        let codename = codename::permission(codename)?;
        let name = name.map_or_else(|| codename::default_name(&codename), str::to_owned);
        let found = store::ensure_permission(&self.0.db, &codename, &name, description, None).await?;
        Ok(found)
    }

    /// Takes the permission `codename` away from the role `role` of `project` (or the
    /// global one); `true` when the role held it.
    pub async fn revoke_role_permission(
        &self,
        project: Option<i64>,
        role: &str,
        codename: &str,
    ) -> Result<bool, PermsError> {
        let codename = codename::permission(codename)?;
        let Some(role) = store::find_role(&self.0.db, codename::role_name(role)?, project).await? else {
            return Ok(false);
        };
        let (permission, _) =
            store::ensure_permission(&self.0.db, &codename, &codename::default_name(&codename), None, None).await?;
        let revoked = store::revoke(&self.0.db, role.id, permission.id).await?;
        if revoked {
            self.invalidate().await?;
        }
        Ok(revoked)
    }

    /// Gives `user` the role `role`, in `project` or globally (the role is created when
    /// missing); `true` when the user did not hold it yet.
    pub async fn add_user_to_role(&self, user: i64, project: Option<i64>, role: &str) -> Result<bool, PermsError> {
        if !store::user_exists(&self.0.db, user).await? {
            return Err(PermsError::UnknownUser(user));
        }
        let (role, _) = self.ensure_role(project, role).await?;
        let added = store::add_user_role(&self.0.db, user, role.id, project).await?;
        if added {
            self.invalidate().await?;
        }
        Ok(added)
    }

    /// Takes the role `role` (of `project`, or global) away from `user`; `true` when the
    /// user held it.
    pub async fn remove_user_from_role(&self, user: i64, project: Option<i64>, role: &str) -> Result<bool, PermsError> {
        let Some(role) = store::find_role(&self.0.db, codename::role_name(role)?, project).await? else {
            return Ok(false);
        };
        let removed = store::remove_user_role(&self.0.db, user, role.id, project).await?;
        if removed {
            self.invalidate().await?;
        }
        Ok(removed)
    }

    /// Enables or disables the role `role` of `project` (or the global one); `false` when
    /// there is no such role. A disabled role grants nothing.
    pub async fn set_role_enabled(&self, project: Option<i64>, role: &str, enabled: bool) -> Result<bool, PermsError> {
        let Some(role) = store::find_role(&self.0.db, codename::role_name(role)?, project).await? else {
            return Ok(false);
        };
        let changed = store::set_role_enabled(&self.0.db, role.id, enabled).await?;
        self.invalidate().await?;
        Ok(changed)
    }

    /// Creates every permission a `can_do` of the program names (not `role:` ones) that
    /// does not exist yet; returns the codenames created, each logged with its handler.
    pub async fn register_declared(&self) -> Result<Vec<String>, PermsError> {
        let mut created = Vec::new();
        for (codename, location) in declared_codenames(crate::routing::all_endpoints())
            .into_iter()
            .filter(|(name, _)| !name.starts_with("role:"))
        {
            if self.register_permission(&codename, None, None).await?.1 {
                tracing::info!(%codename, handler = %location, "registered permission declared by a handler");
                created.push(codename);
            }
        }
        Ok(created)
    }

    /// Fails, naming each one and its handler, when a `can_do` of the program names a
    /// permission that does not exist.
    pub async fn verify_declared(&self) -> Result<(), PermsError> {
        let missing: Vec<String> = self
            .undeclared(crate::routing::all_endpoints())
            .await?
            .permissions
            .into_iter()
            .map(|(codename, location)| format!("'{codename}' ({location})"))
            .collect();
        if missing.is_empty() { Ok(()) } else { Err(PermsError::Undeclared(missing.join(", "))) }
    }

    /// The names the `can_do` of `endpoints` (an app's: [`App::endpoints`](crate::App::endpoints))
    /// use that nothing defines: global permissions that do not exist, and `role:` names
    /// no role has (globally or in any project), each with the first handler naming it.
    /// The `check` command reports them.
    pub async fn undeclared(
        &self,
        endpoints: impl IntoIterator<Item = &'static Endpoint>,
    ) -> Result<Undeclared, PermsError> {
        let permissions = store::global_codenames(&self.0.db).await?;
        let roles = store::role_names(&self.0.db).await?;
        let mut undeclared = Undeclared::default();
        for (name, location) in declared_codenames(endpoints) {
            match name.strip_prefix("role:") {
                Some(role) if !roles.contains(role) => undeclared.roles.push((role.to_owned(), location)),
                Some(_) => {}
                None if !permissions.contains(&name) => undeclared.permissions.push((name, location)),
                None => {}
            }
        }
        Ok(undeclared)
    }
}

/// What [`Perms::undeclared`] found: `(name, handler)` pairs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Undeclared {
    /// Permission codenames (lower-case) no global permission has.
    pub permissions: Vec<(String, String)>,
    /// Role names (after `role:`, lower-case) no role has.
    pub roles: Vec<(String, String)>,
}

/// Every name (lower-case; permission codenames and `role:` names) `endpoints` declare
/// in `can_do`, with the first handler declaring it.
fn declared_codenames(endpoints: impl IntoIterator<Item = &'static Endpoint>) -> Vec<(String, String)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for endpoint in endpoints {
        for codename in endpoint.can_do {
            let codename = codename.to_ascii_lowercase();
            if seen.insert(codename.clone()) {
                let site =
                    format!("{}::{} at {}:{}", endpoint.module_path, endpoint.function, endpoint.file, endpoint.line);
                out.push((codename, site));
            }
        }
    }
    out
}

/// What a membership decides by itself: `None` when the role grants must be consulted.
fn decide_member(member: &crate::Membership, action: &Action<'_>) -> Option<bool> {
    if !member.enabled {
        return Some(false);
    }
    if member.is_superuser {
        return Some(true);
    }
    match action {
        Action::Role(name) => Some(member.role.as_deref().is_some_and(|r| r.trim().eq_ignore_ascii_case(name))),
        Action::Permission(_) => None,
    }
}

impl PermissionChecker for Perms {
    fn check<'a>(&'a self, ctx: &'a Ctx, action: &'a str) -> MaybeAsync<'a, Result<bool, ApiError>> {
        let Some(user) = ctx.user() else { return MaybeAsync::ready(Ok(false)) };
        let action = match codename::parse(action) {
            Ok(action) => action,
            Err(e) => return MaybeAsync::ready(Err(e.into())),
        };
        if user.is_superuser {
            return MaybeAsync::ready(Ok(true));
        }
        let key = match ctx.project() {
            Some(project) => {
                let Some(member) = ctx.membership() else { return MaybeAsync::ready(Ok(false)) };
                if let Some(known) = decide_member(member, &action) {
                    return MaybeAsync::ready(Ok(known));
                }
                (Some(user.id), Some(project.id))
            }
            None if matches!(action, Action::Role(_)) => return MaybeAsync::ready(Ok(false)),
            None => (Some(user.id), None),
        };
        let Action::Permission(code) = action else { return MaybeAsync::ready(Ok(false)) };
        match self.scope(key) {
            MaybeAsync::Ready(Some(result)) => {
                MaybeAsync::ready(result.map(|s| s.grants.contains(&*code)).map_err(Into::into))
            }
            pending => MaybeAsync::boxed(async move {
                let scope = pending.await?;
                Ok(scope.grants.contains(&*code))
            }),
        }
    }

    fn resolves_projects(&self) -> bool {
        self.0.projects.is_some()
    }

    fn project<'a>(&'a self, ctx: &'a Ctx, project_id: i64) -> MaybeAsync<'a, ProjectLookup> {
        let key = (ctx.user().map(|u| u.id), Some(project_id));
        let answer =
            move |scope: Arc<Scope>| scope.exists.then(|| (Project::new(project_id), scope.membership.clone()));
        match self.scope(key) {
            MaybeAsync::Ready(Some(result)) => MaybeAsync::ready(result.map(answer).map_err(Into::into)),
            pending => MaybeAsync::boxed(async move { Ok(answer(pending.await?)) }),
        }
    }
}

/// Makes these permissions the app's checker (unless it has its own) and adds them as
/// state, so handlers reach them as [`State<Perms>`](crate::State) or with
/// [`Perms::from_ctx`].
impl crate::Module for Perms {
    fn install(self, app: AppBuilder) -> AppBuilder {
        let app = match app.has_permissions() {
            true => app,
            false => app.permissions(self.clone()),
        };
        app.state(self)
    }
}
