//! Moving a django-nets-core 0.2.30 deployment to nets: [`import`] reads the Django
//! database (SQLite or PostgreSQL, never written) and brings into nets' tables:
//!
//! | from (Django) | to (nets) | kept |
//! |---|---|---|
//! | the user table (`--user-table`, default `auth_user`) | `nets_user` | ids (so an app's own `user_id` columns stay valid), e-mail, username, names, `is_active`, `is_staff`, `is_superuser`, `email_verified`, `last_login`, `date_joined` |
//! | `nets_core_user_device` | `nets_user_device` | uuid and push token (pushes keep reaching phones), names, versions, `active`, `last_login` |
//! | `oauth2_provider_application` | `nets_oauth_application` | client id and secret: a plaintext secret is stored as nets' digest; a hashed one (DOT's default, Django's PBKDF2) is kept and verified on first use, then replaced by the digest |
//! | `nets_core_permission`, `nets_core_role`, `nets_core_role_permission`, `nets_core_user_role` | `nets_permission`, `nets_role`, `nets_role_permission`, `nets_user_role` | codenames (lower-case), roles by codename, grants, project scope |
//! | `nets_core_email_template` | `nets_email_template` | by name |
//! | the app's project, project-role and member tables | the tables of `NETS_CORE_PROJECT_MODEL`, `NETS_CORE_PROJECT_ROLE_MODEL`, `NETS_CORE_PROJECT_MEMBER_MODEL` | rows by id, the columns both sides have |
//! | `oauth2_provider_accesstoken` (+ refresh tokens), only with `with_tokens` | `nets_access_token`, `nets_refresh_token` | unexpired tokens, as digests |
//!
//! Passwords are not imported (nets logs in with one-time codes), nor verification
//! codes, e-mail queues or push history. Access tokens are not carried over unless
//! asked for: users log in again.
//!
//! Everything runs in one transaction on the nets database, committed only with
//! [`Options::apply`]: a dry run (the default) reports exactly what an import would do
//! and writes nothing (on PostgreSQL it advances id sequences). Run it with the nets
//! server stopped. Deletions are not mirrored: a row deleted in Django after an
//! earlier run stays in nets (so import tokens only in the final run). Rows are matched by their natural key (user id, device uuid,
//! client id, codename, role name and project, template name), so running it again
//! changes nothing and reports every row unchanged. A row that cannot be imported
//! (a user without e-mail, an e-mail another nets user has, a codename nets cannot
//! check, a secret hashed with another algorithm) is skipped with a note, and rows that
//! depend on it are skipped too.
//!
//! The command is `import-django --from <url> [--user-table T] [--with-tokens] [--apply]`
//! (see the README, "Migrating from django-nets-core").

mod app_tables;
mod rows;
mod source;
pub(crate) mod tx;
mod write;

use serde::Serialize;

use crate::Settings;
use crate::db::Db;
use crate::oauth::OAuth;

use source::Source;
use tx::Tx;

/// What to import, and whether to write it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// The Django database: `sqlite:///path/db.sqlite3` or `postgres://..`.
    pub from: String,
    /// Django's `AUTH_USER_MODEL` table (`auth_user`, or e.g. `shop_user`).
    pub user_table: String,
    /// Also import unexpired access tokens (and their refresh tokens) as digests, so
    /// users stay logged in.
    pub with_tokens: bool,
    /// Commit. Without it the import runs and is rolled back (a dry run).
    pub apply: bool,
}

impl Options {
    /// A dry run from `from`, users from `auth_user`, no tokens.
    pub fn new(from: impl Into<String>) -> Options {
        Options { from: from.into(), user_table: "auth_user".into(), with_tokens: false, apply: false }
    }

    /// Reads users from `table`.
    pub fn user_table(mut self, table: impl Into<String>) -> Options {
        self.user_table = table.into();
        self
    }

    /// Imports unexpired tokens too.
    pub fn with_tokens(mut self, yes: bool) -> Options {
        self.with_tokens = yes;
        self
    }

    /// Commits the import.
    pub fn apply(mut self, yes: bool) -> Options {
        self.apply = yes;
        self
    }
}

/// How the rows of one kind ended up.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Counts {
    /// New in nets.
    pub created: u64,
    /// There, and changed to match Django.
    pub updated: u64,
    /// There and already equal.
    pub unchanged: u64,
    /// Not imported (see the report's notes).
    pub skipped: u64,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// Whether it was committed.
    pub applied: bool,
    /// Per kind, in import order: `users`, `devices`, `applications`, ... (a JSON
    /// object in that order).
    #[serde(serialize_with = "as_map")]
    pub kinds: Vec<(&'static str, Counts)>,
    /// Why rows were skipped, and what else an operator should know.
    pub notes: Vec<String>,
}

impl Report {
    /// The counts of `kind` (all zero when nothing of it was seen).
    pub fn counts(&self, kind: &str) -> Counts {
        self.kinds.iter().find(|(k, _)| *k == kind).map(|(_, c)| *c).unwrap_or_default()
    }

    fn tally(&mut self, kind: &'static str) -> &mut Counts {
        let at = match self.kinds.iter().position(|(k, _)| *k == kind) {
            Some(at) => at,
            None => {
                self.kinds.push((kind, Counts::default()));
                self.kinds.len() - 1
            }
        };
        &mut self.kinds[at].1
    }

    fn count(&mut self, kind: &'static str, outcome: tx::Outcome) {
        let counts = self.tally(kind);
        match outcome {
            tx::Outcome::Created => counts.created += 1,
            tx::Outcome::Updated => counts.updated += 1,
            tx::Outcome::Unchanged => counts.unchanged += 1,
        }
    }

    fn skip(&mut self, kind: &'static str, why: String) {
        self.tally(kind).skipped += 1;
        self.notes.push(format!("{kind}: {why}"));
    }
}

fn as_map<S: serde::Serializer>(kinds: &[(&'static str, Counts)], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_map(kinds.iter().map(|(kind, counts)| (kind, counts)))
}

/// Why an import could not run. Nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The Django database could not be read (unreachable, or not a django-nets-core
    /// 0.2.30 schema).
    #[error("reading the Django database: {0}")]
    Source(String),
    /// The nets database refused a statement.
    #[error("writing the nets database: {0}")]
    Target(#[from] sqlx::Error),
    /// An option is unusable.
    #[error("{0}")]
    Invalid(String),
}

/// Imports (see the [module documentation](self)) into `db`, with `oauth` for the
/// digests and `settings` for the project tables. The Django database is opened
/// read-only.
///
/// ```no_run
/// # async fn demo(db: nets_runtime::db::Db, oauth: nets_runtime::oauth::OAuth, settings: nets_runtime::Settings)
/// # -> Result<(), nets_runtime::django_import::ImportError> {
/// use nets_runtime::django_import::{Options, import};
///
/// let options = Options::new("sqlite:///srv/old/db.sqlite3").user_table("shop_user");
/// let dry = import(&db, &oauth, &settings, &options).await?;
/// println!("{} users would be created", dry.counts("users").created);
/// import(&db, &oauth, &settings, &options.apply(true)).await?;
/// # Ok(()) }
/// ```
pub async fn import(db: &Db, oauth: &OAuth, settings: &Settings, options: &Options) -> Result<Report, ImportError> {
    if !crate::settings::is_identifier(&options.user_table) {
        return Err(ImportError::Invalid(format!(
            "--user-table '{}' is not a table name: use letters, digits and '_'",
            options.user_table
        )));
    }
    let source = Source::connect(&options.from).await?;
    let result = run(&source, db, oauth, settings, options).await;
    source.close().await;
    result
}

async fn run(
    source: &Source,
    db: &Db,
    oauth: &OAuth,
    settings: &Settings,
    options: &Options,
) -> Result<Report, ImportError> {
    // Everything is read before anything is written: a schema that is not the
    // original's fails here, with the nets database untouched.
    let read = write::Django {
        users: rows::users(source, &options.user_table).await?,
        devices: rows::devices(source).await?,
        applications: rows::applications(source).await?,
        permissions: rows::permissions(source).await?,
        roles: rows::roles(source).await?,
        role_permissions: rows::role_permissions(source).await?,
        user_roles: rows::user_roles(source).await?,
        templates: rows::templates(source).await?,
        tokens: if options.with_tokens { rows::tokens(source).await? } else { Vec::new() },
        app_tables: app_tables::read(source, settings).await?,
    };
    let mut tx = Tx::begin(db).await?;
    let mut report = Report { applied: options.apply, kinds: Vec::new(), notes: Vec::new() };
    write::all(&mut tx, &read, oauth, settings, &mut report).await?;
    tx.finish(options.apply).await?;
    Ok(report)
}
