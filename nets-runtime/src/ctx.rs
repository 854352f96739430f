//! [`Ctx`]: what a handler knows about the request besides its parameters.

use std::net::IpAddr;
use std::sync::Arc;

use crate::ApiError;
use crate::app::App;
use crate::auth::AuthUser;
use crate::settings::Settings;

/// The request context, passed to any handler argument of type `Ctx`.
///
/// ```
/// use nets_runtime::prelude::*;
///
/// #[request_handler(path = "whoami/", method = GET)]
/// async fn whoami(ctx: Ctx) -> ApiResult<i64> {
///     Ok(ctx.require_user()?.id)
/// }
/// ```
#[derive(Clone)]
pub struct Ctx {
    pub(crate) app: App,
    pub(crate) user: Option<Arc<AuthUser>>,
    pub(crate) project: Option<Project>,
    pub(crate) membership: Option<Membership>,
    pub(crate) client_ip: Option<IpAddr>,
    pub(crate) request_id: Option<axum::http::HeaderValue>,
    pub(crate) perm: bool,
}

impl Ctx {
    pub(crate) fn new(app: App) -> Self {
        Ctx { app, user: None, project: None, membership: None, client_ip: None, request_id: None, perm: false }
    }

    /// The authenticated user, if any (always `Some` on private endpoints).
    pub fn user(&self) -> Option<&AuthUser> {
        self.user.as_deref()
    }

    /// The authenticated user, or a 401 error for `?`.
    pub fn require_user(&self) -> Result<&AuthUser, ApiError> {
        self.user().ok_or(ApiError::Unauthorized { challenge: None })
    }

    /// The project named by the request's `project_id`, once resolved.
    pub fn project(&self) -> Option<&Project> {
        self.project.as_ref()
    }

    /// The caller's membership of [`project`](Self::project).
    pub fn membership(&self) -> Option<&Membership> {
        self.membership.as_ref()
    }

    /// The client's address: the connection's peer, or the client a trusted proxy
    /// forwarded for ([`App::client_ip`]); `None` when served without connect info.
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.client_ip
    }

    /// The request id (`x-request-id`), also written into logs and 500 responses.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_ref().and_then(|v| v.to_str().ok())
    }

    /// The permission outcome: `true` on public endpoints, else whether every
    /// `can_do` permission held (false when the endpoint declares none).
    pub fn perm(&self) -> bool {
        self.perm
    }

    /// The application's settings.
    pub fn settings(&self) -> &Settings {
        self.app.settings()
    }

    /// Application state registered with [`AppBuilder::state`](crate::AppBuilder::state).
    pub fn state<T: Clone + Send + Sync + 'static>(&self) -> Option<&T> {
        self.app.state::<T>()
    }

    /// The channel layer (feature `realtime`): `send_to_user`, `group_send`, ... A 500
    /// when the realtime module is not installed; take `State<Channels>` instead to have
    /// `build()` check it.
    #[cfg(feature = "realtime")]
    pub fn channels(&self) -> Result<&crate::realtime::Channels, ApiError> {
        self.state::<crate::realtime::Channels>()
            .ok_or_else(|| ApiError::internal("the realtime module is not installed (realtime::Realtime)"))
    }

    /// The database, or a 500 when the app was built without one
    /// ([`AppBuilder::database`](crate::AppBuilder::database)).
    #[cfg(feature = "db")]
    pub fn db(&self) -> Result<&crate::db::Db, ApiError> {
        self.state::<crate::db::Db>()
            .ok_or_else(|| ApiError::internal("no database configured: use AppBuilder::database"))
    }

    /// The application.
    pub fn app(&self) -> &App {
        &self.app
    }
}

/// A project named by `project_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Project {
    /// Primary key.
    pub id: i64,
}

impl Project {
    /// The project with primary key `id`.
    pub fn new(id: i64) -> Self {
        Project { id }
    }
}

/// A user's membership of a project.
///
/// ```
/// use nets_runtime::Membership;
///
/// let m = Membership::new(3, 7).role("editor");
/// assert!(m.enabled && !m.is_superuser);
/// assert_eq!(m.role.as_deref(), Some("editor"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Membership {
    /// The project.
    pub project_id: i64,
    /// The member.
    pub user_id: i64,
    /// Project superusers pass every permission check in the project.
    pub is_superuser: bool,
    /// Disabled memberships grant nothing.
    pub enabled: bool,
    /// The member's role name, for `role:<name>` checks (shared, so copying a
    /// membership onto each request's context does not allocate).
    pub role: Option<Arc<str>>,
}

impl Membership {
    /// An enabled, non-superuser membership without a role.
    pub fn new(project_id: i64, user_id: i64) -> Self {
        Membership { project_id, user_id, is_superuser: false, enabled: true, role: None }
    }
    /// Sets whether the member is a project superuser.
    pub fn superuser(mut self, is_superuser: bool) -> Self {
        self.is_superuser = is_superuser;
        self
    }
    /// Sets whether the membership is enabled.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }
    /// Sets the member's role name.
    pub fn role(mut self, role: impl Into<Arc<str>>) -> Self {
        self.role = Some(role.into());
        self
    }
}
