//! OAuth2 client applications: creation (the secret is shown once) and client
//! authentication (RFC 6749 §2.3.1).

use serde::Serialize;
use subtle::ConstantTimeEq;

use super::{OAuth, django_hasher, on_pool};
use crate::db::DbError;
use crate::keys::random_token;

/// RFC 6749 §2.1 client types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientType {
    /// A server-side client that keeps a secret.
    Confidential,
    /// A client that cannot keep a secret (a mobile or browser app): no secret at all.
    Public,
}

impl ClientType {
    fn as_str(self) -> &'static str {
        match self {
            ClientType::Confidential => "confidential",
            ClientType::Public => "public",
        }
    }
}

/// A registered client application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Application {
    /// Primary key.
    pub id: i64,
    /// The public identifier clients send.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Confidential or public.
    pub client_type: ClientType,
}

/// A newly created application, with its secret: the only time the secret is known.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct NewApplication {
    /// Primary key.
    #[serde(skip)]
    pub id: i64,
    /// The client id.
    pub client_id: String,
    /// The client secret (`None` for public clients). Show it once; nets keeps a digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// Why [`OAuth::import_application`] refused the credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The client id is empty, longer than 100 characters or holds spaces or controls.
    #[error("the client id must be 1 to 100 printable characters without spaces")]
    ClientId,
    /// A confidential client needs its secret (1 to 255 printable characters).
    #[error("a confidential client needs its secret: 1 to 255 printable characters without spaces")]
    Secret,
    /// A public client has no secret.
    #[error("a public client has no secret")]
    SecretOfPublicClient,
    /// Another application has this client id.
    #[error("an application with this client id exists")]
    Exists,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Why a client could not be authenticated. Deliberately vague on the wire.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientAuthError {
    #[error("client authentication failed")]
    Failed,
    #[error(transparent)]
    Db(#[from] DbError),
}

type AppRow = (i64, String, Option<String>, String, String);

impl OAuth {
    /// Registers a client application and returns its id and, for confidential clients,
    /// its secret: 256 random bits, stored only as a digest, so print it now.
    ///
    /// ```no_run
    /// # async fn demo(oauth: nets_runtime::oauth::OAuth) -> Result<(), nets_runtime::db::DbError> {
    /// use nets_runtime::oauth::ClientType;
    /// let app = oauth.create_application("Mobile app", ClientType::Confidential).await?;
    /// println!("{}", serde_json::to_string(&app).unwrap()); // {"client_id":"..","client_secret":".."}
    /// # Ok(()) }
    /// ```
    pub async fn create_application(&self, name: &str, client_type: ClientType) -> Result<NewApplication, DbError> {
        let client_id = random_token::<20>();
        let client_secret = (client_type == ClientType::Confidential).then(random_token::<32>);
        let digest = client_secret.as_deref().map(|s| self.0.client_secret_key.digest_hex(s));
        const SQL: &str = "INSERT INTO nets_oauth_application (client_id, client_secret_digest, name, client_type) \
                           VALUES ($1, $2, $3, $4) RETURNING id";
        let id: i64 = on_pool!(&self.0.db, |pool| {
            sqlx::query_scalar(SQL)
                .bind(&client_id)
                .bind(&digest)
                .bind(name)
                .bind(client_type.as_str())
                .fetch_one(pool)
                .await?
        });
        Ok(NewApplication { id, client_id, client_secret })
    }

    /// Registers a client application with the credentials it already has: a deployed
    /// app's compiled-in client id (and secret, for a confidential client) keep working
    /// after a move to nets. The secret is stored as a digest, like every other.
    ///
    /// ```no_run
    /// # async fn demo(oauth: nets_runtime::oauth::OAuth) -> Result<(), nets_runtime::oauth::ImportError> {
    /// use nets_runtime::oauth::ClientType;
    /// oauth.import_application("Mobile app", ClientType::Confidential, "mobile-2024", Some("s3cr3t..")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn import_application(
        &self,
        name: &str,
        client_type: ClientType,
        client_id: &str,
        client_secret: Option<&str>,
    ) -> Result<NewApplication, ImportError> {
        let printable =
            |s: &str, max: usize| !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_graphic());
        if !printable(client_id, 100) {
            return Err(ImportError::ClientId);
        }
        let digest = match (client_type, client_secret) {
            (ClientType::Public, None) => None,
            (ClientType::Public, Some(_)) => return Err(ImportError::SecretOfPublicClient),
            (ClientType::Confidential, Some(secret)) if printable(secret, 255) => {
                Some(self.0.client_secret_key.digest_hex(secret))
            }
            (ClientType::Confidential, _) => return Err(ImportError::Secret),
        };
        const SQL: &str = "INSERT INTO nets_oauth_application (client_id, client_secret_digest, name, client_type) \
                           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id";
        let id: Option<i64> = on_pool!(&self.0.db, |pool| {
            sqlx::query_scalar(SQL)
                .bind(client_id)
                .bind(&digest)
                .bind(name)
                .bind(client_type.as_str())
                .fetch_optional(pool)
                .await
                .map_err(DbError::from)?
        });
        let id = id.ok_or(ImportError::Exists)?;
        Ok(NewApplication { id, client_id: client_id.to_owned(), client_secret: client_secret.map(str::to_owned) })
    }

    /// The application with this client id.
    pub async fn application(&self, client_id: &str) -> Result<Option<Application>, DbError> {
        Ok(self.application_row(client_id).await?.map(|row| to_application(row).0))
    }

    async fn application_row(&self, client_id: &str) -> Result<Option<AppRow>, DbError> {
        const SQL: &str = "SELECT id, client_id, client_secret_digest, name, client_type \
                           FROM nets_oauth_application WHERE client_id = $1";
        Ok(on_pool!(&self.0.db, |pool| sqlx::query_as(SQL).bind(client_id).fetch_optional(pool).await?))
    }

    /// Authenticates a client: a confidential client must present its secret (compared
    /// as digests, in constant time); a public client must present none.
    pub(crate) async fn authenticate_client(
        &self,
        client_id: &str,
        secret: Option<&str>,
    ) -> Result<Application, ClientAuthError> {
        // The digest is computed whether or not the client exists, so the answer takes
        // about as long for unknown clients.
        let presented = secret.map(|s| self.0.client_secret_key.digest_hex(s));
        // No client id holds a NUL, and PostgreSQL refuses one in a query (SQLSTATE 22021).
        if client_id.contains('\0') {
            return Err(ClientAuthError::Failed);
        }
        let Some(row) = self.application_row(client_id).await? else { return Err(ClientAuthError::Failed) };
        let (app, stored) = to_application(row);
        let ok = match (app.client_type, stored, presented) {
            (ClientType::Confidential, Some(stored), Some(presented)) if django_hasher::is_django_hash(&stored) => {
                self.verify_django_secret(&app, stored, secret.unwrap_or_default(), presented).await?
            }
            (ClientType::Confidential, Some(stored), Some(presented)) => {
                bool::from(stored.as_bytes().ct_eq(presented.as_bytes()))
            }
            (ClientType::Public, _, None) => true,
            _ => false,
        };
        if ok { Ok(app) } else { Err(ClientAuthError::Failed) }
    }

    /// An application imported from Django with a hashed secret: PBKDF2 (on a blocking
    /// thread: Django's iteration count costs ~a second of CPU), and on success the nets
    /// digest replaces the Django hash, so only the first authentication pays.
    async fn verify_django_secret(
        &self,
        app: &Application,
        stored: String,
        secret: &str,
        presented: String,
    ) -> Result<bool, ClientAuthError> {
        // At most two at a time, and a short wait for a turn: a flood of wrong secrets
        // (client ids ship inside apps) is refused at once instead of queueing without
        // bound in front of the real client, or taking every core.
        static VERIFYING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
        let turn = tokio::time::timeout(std::time::Duration::from_secs(3), VERIFYING.acquire()).await;
        let Ok(Ok(_permit)) = turn else {
            tracing::warn!(client = %app.client_id, "too many imported-secret checks at once: refused");
            return Ok(false);
        };
        let owned = secret.to_owned();
        let hash = stored.clone();
        let ok = tokio::task::spawn_blocking(move || django_hasher::verify(&owned, &hash)).await.unwrap_or(false);
        if ok {
            const SQL: &str = "UPDATE nets_oauth_application SET client_secret_digest = $1, updated = $2 \
                               WHERE id = $3 AND client_secret_digest = $4";
            let now = chrono::Utc::now();
            on_pool!(&self.0.db, |pool| {
                sqlx::query(SQL).bind(&presented).bind(now).bind(app.id).bind(&stored).execute(pool).await.map(drop)
            })
            .map_err(DbError::from)?;
        }
        Ok(ok)
    }
}

fn to_application((id, client_id, digest, name, client_type): AppRow) -> (Application, Option<String>) {
    let client_type = if client_type == "public" { ClientType::Public } else { ClientType::Confidential };
    (Application { id, client_id, name, client_type }, digest)
}
