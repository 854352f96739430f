//! [`Stack`]: every built-in part of a nets application, connected from the settings,
//! so that an app's `main` is a few lines.
//!
//! ```no_run
//! use nets_runtime::prelude::*;
//! use nets_runtime::stack::Stack;
//!
//! #[request_handler(path = "hello/", method = GET)]
//! async fn hello(ctx: Ctx) -> ApiResult<String> {
//!     Ok(format!("hello, user {}", ctx.require_user()?.id))
//! }
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! // The database (migrated), cache, job queue, mailer, OAuth tokens, the account
//! // endpoints and permissions, from `nets.toml` and the environment:
//! let stack = Stack::from_settings(Settings::load()?).await?;
//! let jobs = stack.jobs.clone();
//! let app = stack.app().routes(build_urlpatterns!(self)?).build()?;
//! let worker = app.worker(&jobs).spawn()?; // e-mails, and your own job types
//! app.serve("127.0.0.1:8000".parse()?).await?; // until Ctrl-C or SIGTERM, then shut down
//! worker.stop().await?;
//! # Ok(()) }
//! ```
//!
//! Every part stays replaceable: change a field before [`Stack::app`] (`stack.accounts =
//! None` turns the account endpoints off), or call the builder after it (its own
//! `.authenticator(..)` or `.permissions(..)` replaces the modules' defaults).
//! [`cli::Manage`](crate::cli::Manage) wraps this in the management commands.

use sqlx::migrate::Migrator;

use crate::accounts::Accounts;
use crate::cache::{Cache, CacheError};
use crate::db::{Db, DbError};
use crate::jobs::{Jobs, JobsError};
use crate::mail::{MailError, Mailer};
use crate::oauth::OAuth;
use crate::perms::{Perms, PermsError};
use crate::users::{UserTable, UserTableError};
use crate::{App, AppBuilder, Settings};

/// The built-in parts of an application, connected. Fields are public: replace or
/// remove one before [`Stack::app`].
#[non_exhaustive]
pub struct Stack {
    /// The settings everything was built from.
    pub settings: Settings,
    /// `DATABASE_URL` (SQLite file by default), migrated unless
    /// `NETS_CORE_MIGRATE_ON_STARTUP = false`.
    pub db: Db,
    /// In memory, or Redis with `REDIS_URL`.
    pub cache: Cache,
    /// The durable job queue (e-mails, and the app's own job types).
    pub jobs: Jobs,
    /// E-mail: console/file in DEBUG or as configured, SMTP otherwise.
    pub mailer: Option<Mailer>,
    /// OAuth2 tokens (`/o/token/`, `/o/revoke_token/`, bearer authentication), with the
    /// token cache the settings ask for.
    pub oauth: OAuth,
    /// The account endpoints (`/login/`, `/authenticate/`, ...) over the configured user
    /// table.
    pub accounts: Option<Accounts>,
    /// Roles and permissions, with their cache and cross-instance sync.
    pub perms: Option<Perms>,
    /// Push notifications (FCM HTTP v1, `FIREBASE_CONFIG`), their endpoints and fan-out job.
    #[cfg(feature = "push")]
    pub push: Option<crate::push::Push>,
    /// The social login endpoints (`/loginWithGoogleSocial/`, ...), over `accounts`;
    /// providers without settings answer 400 `provider_not_configured`.
    #[cfg(feature = "social")]
    pub social: Option<crate::social::Social>,
    /// WebSocket endpoints' runtime, `POST /ws/ticket/` and the channel layer (Redis
    /// pub/sub with `REDIS_URL`), with the push fallback when push is on.
    #[cfg(feature = "realtime")]
    pub realtime: Option<crate::realtime::Realtime>,
}

/// [`Stack::from_settings`] could not connect or configure a part; the message names it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StackError {
    /// The database could not be reached or migrated.
    #[error("database: {0}")]
    Db(#[from] DbError),
    /// The cache (Redis) could not be reached.
    #[error("cache: {0}")]
    Cache(#[from] CacheError),
    /// The job queue's storage could not be opened.
    #[error("job queue: {0}")]
    Jobs(#[from] JobsError),
    /// The mail transport is misconfigured.
    #[error("mail: {0}")]
    Mail(#[from] MailError),
    /// OAuth could not start (no `SECRET_KEY` outside DEBUG, Redis for the token cache).
    #[error("OAuth: {0}")]
    OAuth(#[from] crate::oauth::SetupError),
    /// The user table does not match the settings.
    #[error("user table: {0}")]
    Users(#[from] UserTableError),
    /// The account endpoints' settings are invalid.
    #[error("accounts: {0}")]
    Accounts(#[from] crate::accounts::SetupError),
    /// Permissions could not start.
    #[error("permissions: {0}")]
    Perms(#[from] PermsError),
    /// Push notifications are misconfigured (`FIREBASE_CONFIG`).
    #[cfg(feature = "push")]
    #[error("push: {0}")]
    Push(#[from] crate::push::PushError),
    /// Social login is misconfigured.
    #[cfg(feature = "social")]
    #[error(transparent)]
    Social(#[from] crate::social::SetupError),
    /// The real-time module could not start (its Redis channel layer).
    #[cfg(feature = "realtime")]
    #[error("realtime: {0}")]
    Realtime(#[from] crate::realtime::SetupError),
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("settings", &self.settings)
            .field("mailer", &self.mailer.is_some())
            .field("accounts", &self.accounts.is_some())
            .field("perms", &self.perms.is_some())
            .field("push", &self.push_installed())
            .finish_non_exhaustive()
    }
}

impl Stack {
    /// Connects every part `settings` describe; the database is migrated first (nets'
    /// tables) unless `NETS_CORE_MIGRATE_ON_STARTUP = false`.
    pub async fn from_settings(settings: Settings) -> Result<Stack, StackError> {
        Stack::connect(settings, None).await
    }

    /// Like [`from_settings`](Self::from_settings), and applies the application's own
    /// `migrations` after nets' (they may add columns to `nets_user`, which the user
    /// table then sees).
    pub async fn with_migrations(settings: Settings, migrations: &Migrator) -> Result<Stack, StackError> {
        Stack::connect(settings, Some(migrations)).await
    }

    async fn connect(settings: Settings, migrations: Option<&Migrator>) -> Result<Stack, StackError> {
        let db = Db::from_settings(&settings).await?;
        if let Some(migrations) = migrations.filter(|_| settings.migrate_on_startup) {
            db.migrate_app(migrations).await?;
        }
        let cache = Cache::from_settings(&settings).await?;
        let jobs = Jobs::connect(&settings, &db).await?;
        let mailer = Mailer::builder(&settings).database(db.clone()).jobs(jobs.clone()).build()?;
        let oauth = OAuth::from_settings(&settings, &db).await?;
        let users = UserTable::load(&db, &settings).await?;
        let accounts = Accounts::new(oauth.clone(), users, cache.clone(), &settings)?.with_mailer(mailer.clone());
        let perms = Perms::from_settings(&settings, &db).await?;
        #[cfg(feature = "push")]
        let push = crate::push::Push::builder(&settings).database(db.clone()).jobs(jobs.clone()).build()?;
        #[cfg(feature = "social")]
        let social = crate::social::Social::from_settings(&settings, accounts.clone())?.jobs(jobs.clone());
        #[cfg(feature = "realtime")]
        let realtime = crate::realtime::Realtime::from_settings(&settings, cache.clone()).await?;
        #[cfg(all(feature = "realtime", feature = "push"))]
        let realtime = realtime.with_push(push.clone());
        Ok(Stack {
            settings,
            db,
            cache,
            jobs,
            mailer: Some(mailer),
            oauth,
            accounts: Some(accounts),
            perms: Some(perms),
            #[cfg(feature = "push")]
            push: Some(push),
            #[cfg(feature = "social")]
            social: Some(social),
            #[cfg(feature = "realtime")]
            realtime: Some(realtime),
        })
    }

    fn push_installed(&self) -> bool {
        #[cfg(feature = "push")]
        return self.push.is_some();
        #[cfg(not(feature = "push"))]
        false
    }

    /// An [`AppBuilder`] with every part installed: the database, cache and job queue as
    /// state, then OAuth, the account endpoints, the mailer and permissions as
    /// [`Module`](crate::Module)s. Add the app's own routes, state and job types, then
    /// [`build`](AppBuilder::build).
    pub fn app(self) -> AppBuilder {
        let mut app = App::builder(self.settings).database(self.db).state(self.cache).state(self.jobs);
        app = app.install(self.oauth);
        if let Some(accounts) = self.accounts {
            app = app.install(accounts);
        }
        if let Some(mailer) = self.mailer {
            app = app.install(mailer);
        }
        if let Some(perms) = self.perms {
            app = app.install(perms);
        }
        #[cfg(feature = "push")]
        if let Some(push) = self.push {
            app = app.install(push);
        }
        #[cfg(feature = "social")]
        if let Some(social) = self.social {
            app = app.install(social);
        }
        #[cfg(feature = "realtime")]
        if let Some(realtime) = self.realtime {
            app = app.install(realtime);
        }
        app
    }
}
