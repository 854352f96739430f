//! OAuth2 client applications: creation (the secret is shown once) and client
//! authentication (RFC 6749 §2.3.1).

use serde::Serialize;
use subtle::ConstantTimeEq;

use super::{OAuth, on_pool};
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
            (ClientType::Confidential, Some(stored), Some(presented)) => {
                bool::from(stored.as_bytes().ct_eq(presented.as_bytes()))
            }
            (ClientType::Public, _, None) => true,
            _ => false,
        };
        if ok { Ok(app) } else { Err(ClientAuthError::Failed) }
    }
}

fn to_application((id, client_id, digest, name, client_type): AppRow) -> (Application, Option<String>) {
    let client_type = if client_type == "public" { ClientType::Public } else { ClientType::Confidential };
    (Application { id, client_id, name, client_type }, digest)
}
