//! Access and refresh tokens: issue, rotate (with reuse detection), revoke, look up.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Serialize, Serializer};
use uuid::Uuid;

use super::{OAuth, on_pool};
use crate::auth::AuthUser;
use crate::db::DbError;
use crate::keys::{hex, random_token};

/// A new token pair, as `/authenticate/` and the original `generate_tokens` answer it:
/// `{"access_token": .., "refresh_token": .., "token_expire": "2026-01-01T00:00:00.000Z"}`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Tokens {
    /// The bearer token: 256 random bits as 64 hex digits.
    pub access_token: String,
    /// The single-use refresh token: 256 random bits as 64 hex digits.
    pub refresh_token: String,
    /// When the access token expires.
    #[serde(serialize_with = "iso_millis")]
    pub token_expire: DateTime<Utc>,
}

fn iso_millis<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// Now, to the millisecond. Stored timestamps all have this precision, so SQLite's text
/// timestamps order correctly as text.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// What is inserted for one token pair.
struct Pair {
    user_id: i64,
    application_id: i64,
    family: Uuid,
    access_digest: String,
    refresh_digest: String,
    access_expires: DateTime<Utc>,
    refresh_expires: DateTime<Utc>,
}

const INSERT_ACCESS: &str = "INSERT INTO nets_access_token (token_digest, user_id, application_id, family, expires) \
                             VALUES ($1, $2, $3, $4, $5) RETURNING id";
const INSERT_REFRESH: &str = "INSERT INTO nets_refresh_token \
                              (token_digest, access_token_id, user_id, application_id, family, expires) \
                              VALUES ($1, $2, $3, $4, $5, $6)";
const REVOKE_FAMILY_ACCESS: &str =
    "UPDATE nets_access_token SET revoked_at = $1, updated = $1 WHERE family = $2 AND revoked_at IS NULL";
const REVOKE_FAMILY_REFRESH: &str =
    "UPDATE nets_refresh_token SET revoked_at = $1, updated = $1 WHERE family = $2 AND revoked_at IS NULL";

/// Inserts a [`Pair`] on a transaction (`$tx`), both backends alike.
macro_rules! insert_pair {
    ($tx:expr, $pair:expr) => {{
        let p: &Pair = $pair;
        let access_id: i64 = sqlx::query_scalar(INSERT_ACCESS)
            .bind(&p.access_digest)
            .bind(p.user_id)
            .bind(p.application_id)
            .bind(p.family)
            .bind(p.access_expires)
            .fetch_one(&mut *$tx)
            .await?;
        sqlx::query(INSERT_REFRESH)
            .bind(&p.refresh_digest)
            .bind(access_id)
            .bind(p.user_id)
            .bind(p.application_id)
            .bind(p.family)
            .bind(p.refresh_expires)
            .execute(&mut *$tx)
            .await?;
    }};
}

/// Why a refresh was refused (all `invalid_grant` on the wire).
#[derive(Debug)]
pub(crate) enum RefreshRefused {
    /// Unknown, expired, revoked, issued to another client, or its user is inactive.
    Invalid,
    /// Already used: the family has been revoked.
    Reused,
}

/// The refresh token row with its user's state.
type RefreshRow = (i64, i64, i64, Uuid, DateTime<Utc>, bool, bool, Option<i64>, bool);

impl OAuth {
    /// Issues an access token (expiring at `expires`, default now +
    /// `ACCESS_TOKEN_EXPIRE_SECONDS`) and a refresh token for `user_id` on the
    /// application `application_id`, as a new family (a new login).
    ///
    /// ```no_run
    /// # async fn demo(oauth: nets_runtime::oauth::OAuth) -> Result<(), nets_runtime::db::DbError> {
    /// let app = oauth.application("client-id").await?.expect("registered");
    /// let tokens = oauth.generate_tokens(42, app.id, None).await?;
    /// println!("Authorization: Bearer {}", tokens.access_token);
    /// # Ok(()) }
    /// ```
    pub async fn generate_tokens(
        &self,
        user_id: i64,
        application_id: i64,
        expires: Option<DateTime<Utc>>,
    ) -> Result<Tokens, DbError> {
        let family = Uuid::now_v7();
        let (pair, tokens) = self.new_pair(user_id, application_id, family, expires);
        on_pool!(&self.0.db, |pool| {
            let mut tx = pool.begin().await?;
            insert_pair!(tx, &pair);
            tx.commit().await?;
        });
        Ok(tokens)
    }

    /// Fresh secrets and their digests for one pair of `family`.
    fn new_pair(
        &self,
        user_id: i64,
        application_id: i64,
        family: Uuid,
        expires: Option<DateTime<Utc>>,
    ) -> (Pair, Tokens) {
        let now = now();
        let (access_token, refresh_token) = (random_token::<32>(), random_token::<32>());
        let access_expires = expires.map(|e| e.trunc_subsecs(3)).unwrap_or(now + self.0.access_ttl);
        // A refresh token never outlives its family's absolute limit, which is counted
        // from the login: the time in the family's UUIDv7.
        let family_deadline = family_start(family).unwrap_or(now) + self.0.family_max_age;
        let refresh_expires = (now + self.0.refresh_ttl).min(family_deadline);
        let pair = Pair {
            user_id,
            application_id,
            family,
            access_digest: self.token_digest(&access_token),
            refresh_digest: self.token_digest(&refresh_token),
            access_expires,
            refresh_expires,
        };
        (pair, Tokens { access_token, refresh_token, token_expire: access_expires })
    }

    /// Exchanges a refresh token of `application_id` for a new pair of the same family.
    /// The old refresh token is spent and its access token revoked; a spent one
    /// presented again revokes the family.
    pub(crate) async fn refresh(&self, application_id: i64, refresh_token: &str) -> Result<Tokens, RefreshOutcome> {
        const SQL: &str = "SELECT r.id, r.user_id, r.application_id, r.family, r.expires, \
                           r.used_at IS NOT NULL, r.revoked_at IS NOT NULL, r.access_token_id, u.is_active \
                           FROM nets_refresh_token r JOIN nets_user u ON u.id = r.user_id \
                           WHERE r.token_digest = $1";
        let digest = self.token_digest(refresh_token);
        let row: Option<RefreshRow> = on_pool!(&self.0.db, |pool| sqlx::query_as(SQL)
            .bind(&digest)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from)?);
        let Some((id, user_id, app_id, family, expires, used, revoked, access_id, active)) = row else {
            return Err(RefreshOutcome::Refused(RefreshRefused::Invalid));
        };
        if app_id != application_id || revoked {
            return Err(RefreshOutcome::Refused(RefreshRefused::Invalid));
        }
        if used {
            tracing::warn!(%family, user_id, "refresh token reused: revoking its family");
            self.revoke_family(family).await?;
            return Err(RefreshOutcome::Refused(RefreshRefused::Reused));
        }
        if expires <= now() || !active {
            return Err(RefreshOutcome::Refused(RefreshRefused::Invalid));
        }

        let (pair, tokens) = self.new_pair(user_id, application_id, family, None);
        let now = now();
        let (claimed, access_revoked) = on_pool!(&self.0.db, |pool| {
            let mut tx = pool.begin().await.map_err(DbError::from)?;
            // Spend the token; of concurrent refreshes with it, one gets here first.
            let claimed = sqlx::query(
                "UPDATE nets_refresh_token SET used_at = $1, updated = $1 \
                 WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(DbError::from)?
            .rows_affected()
                == 1;
            let mut access_revoked = 0;
            if claimed {
                if let Some(access_id) = access_id {
                    access_revoked = sqlx::query(
                        "UPDATE nets_access_token SET revoked_at = $1, updated = $1 \
                         WHERE id = $2 AND revoked_at IS NULL",
                    )
                    .bind(now)
                    .bind(access_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(DbError::from)?
                    .rows_affected();
                }
                let inserted: Result<(), sqlx::Error> = async {
                    insert_pair!(tx, &pair);
                    Ok(())
                }
                .await;
                inserted.map_err(DbError::from)?;
                tx.commit().await.map_err(DbError::from)?;
            }
            (claimed, access_revoked)
        });
        if !claimed {
            // Lost the race to another use of the same token: that is reuse too.
            tracing::warn!(%family, user_id, "refresh token used twice at once: revoking its family");
            self.revoke_family(family).await?;
            return Err(RefreshOutcome::Refused(RefreshRefused::Reused));
        }
        // The new pair is committed and the old refresh token spent: failing now would
        // lose the pair. The retired access token was valid until then anyway, so an
        // instance that misses this keeps it at most its cache time longer.
        if let Err(e) = self.announce_revoked(access_revoked).await {
            tracing::warn!(error = %e, %family, "could not announce the access token a refresh retired");
        }
        Ok(tokens)
    }

    /// Revokes every access and refresh token of a family (one login). With the token
    /// cache on, every instance refuses them from its next request; an error after the
    /// rows were revoked means that could not be announced ([`DbError::Sync`]).
    pub async fn revoke_family(&self, family: Uuid) -> Result<(), DbError> {
        let now = now();
        let access_revoked = on_pool!(&self.0.db, |pool| {
            let mut tx = pool.begin().await?;
            let access = sqlx::query(REVOKE_FAMILY_ACCESS).bind(now).bind(family).execute(&mut *tx).await?;
            sqlx::query(REVOKE_FAMILY_REFRESH).bind(now).bind(family).execute(&mut *tx).await?;
            tx.commit().await?;
            access.rows_affected()
        });
        self.announce_revoked(access_revoked).await
    }

    /// After `access_revoked` access tokens were revoked (and committed): drops cached
    /// tokens everywhere. Refresh tokens are never cached, so revoking only those needs
    /// nothing.
    async fn announce_revoked(&self, access_revoked: u64) -> Result<(), DbError> {
        if access_revoked == 0 { Ok(()) } else { self.tokens_revoked().await }
    }

    /// The family of an access or refresh token and the application it was issued to.
    async fn family_of(&self, token: &str, refresh_first: bool) -> Result<Option<(Uuid, i64)>, DbError> {
        const ACCESS: &str = "SELECT family, application_id FROM nets_access_token WHERE token_digest = $1";
        const REFRESH: &str = "SELECT family, application_id FROM nets_refresh_token WHERE token_digest = $1";
        let digest = self.token_digest(token);
        let order = if refresh_first { [REFRESH, ACCESS] } else { [ACCESS, REFRESH] };
        for sql in order {
            let found: Option<(Uuid, i64)> =
                on_pool!(&self.0.db, |pool| sqlx::query_as(sql).bind(&digest).fetch_optional(pool).await?);
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// Revokes the login an access or refresh token belongs to (its whole family), as
    /// logout does. `false` when the token is unknown.
    pub async fn revoke_token(&self, token: &str) -> Result<bool, DbError> {
        match self.family_of(token, false).await? {
            Some((family, _)) => self.revoke_family(family).await.map(|()| true),
            None => Ok(false),
        }
    }

    /// RFC 7009 revocation by a client: only tokens issued to `application_id` are
    /// revoked; anything else is silently ignored (the answer is the same, so a client
    /// cannot probe for other clients' tokens).
    pub(crate) async fn revoke_for_client(
        &self,
        application_id: i64,
        token: &str,
        refresh_first: bool,
    ) -> Result<(), DbError> {
        if let Some((family, app)) = self.family_of(token, refresh_first).await?
            && app == application_id
        {
            self.revoke_family(family).await?;
        }
        Ok(())
    }

    /// Revokes every token of a user (account deactivation, deletion, "log out
    /// everywhere"), on every instance at once as [`revoke_family`](Self::revoke_family)
    /// does.
    pub async fn revoke_user_tokens(&self, user_id: i64) -> Result<(), DbError> {
        let now = now();
        let access_revoked = on_pool!(&self.0.db, |pool| {
            let mut tx = pool.begin().await?;
            let access = sqlx::query(
                "UPDATE nets_access_token SET revoked_at = $1, updated = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE nets_refresh_token SET revoked_at = $1, updated = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            access.rows_affected()
        });
        self.announce_revoked(access_revoked).await
    }

    /// Deletes tokens that have expired (run it now and then, e.g. from a scheduled job).
    /// Returns how many rows went.
    pub async fn purge_expired(&self) -> Result<u64, DbError> {
        let now = now();
        let deleted = on_pool!(&self.0.db, |pool| {
            let mut tx = pool.begin().await?;
            let r =
                sqlx::query("DELETE FROM nets_refresh_token WHERE expires < $1").bind(now).execute(&mut *tx).await?;
            let a = sqlx::query("DELETE FROM nets_access_token WHERE expires < $1").bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            r.rows_affected() + a.rows_affected()
        });
        Ok(deleted)
    }

    /// The user an access token belongs to: `None` when the token is unknown, revoked,
    /// expired, or its user is inactive or gone. Always one indexed query (token digest,
    /// joined with the user), whether or not the token cache is on.
    pub async fn user_for_access_token(&self, token: &str) -> Result<Option<AuthUser>, DbError> {
        let digest = self.0.token_key.digest(token.as_bytes());
        Ok(self.lookup(&digest).await?.map(|(user, _)| user))
    }

    /// The live access token whose digest is `digest`: its user and its expiry.
    pub(super) async fn lookup(&self, digest: &[u8; 32]) -> Result<Option<(AuthUser, DateTime<Utc>)>, DbError> {
        const SQL: &str = "SELECT t.expires, u.id, u.email, u.is_superuser \
                           FROM nets_access_token t JOIN nets_user u ON u.id = t.user_id \
                           WHERE t.token_digest = $1 AND t.revoked_at IS NULL AND u.is_active";
        let digest = hex(digest);
        let row: Option<(DateTime<Utc>, i64, String, bool)> =
            on_pool!(&self.0.db, |pool| sqlx::query_as(SQL).bind(&digest).fetch_optional(pool).await?);
        Ok(row.filter(|(expires, ..)| *expires > Utc::now()).map(|(expires, id, email, is_superuser)| {
            let user = AuthUser::new(id, email);
            (if is_superuser { user.superuser() } else { user }, expires)
        }))
    }
}

/// The refresh failed: refused (`invalid_grant`) or storage trouble.
#[derive(Debug)]
pub(crate) enum RefreshOutcome {
    Refused(RefreshRefused),
    Db(DbError),
}

impl From<DbError> for RefreshOutcome {
    fn from(e: DbError) -> Self {
        RefreshOutcome::Db(e)
    }
}

/// When a family began: the timestamp in its UUIDv7.
fn family_start(family: Uuid) -> Option<DateTime<Utc>> {
    let (secs, nanos) = family.get_timestamp()?.to_unix();
    DateTime::from_timestamp(i64::try_from(secs).ok()?, nanos)
}

/// What live WebSockets need of the token that opened them (feature `realtime`).
#[cfg(feature = "realtime")]
impl OAuth {
    /// The user of an access token, with the token's digest (hex, as stored) and expiry.
    pub(crate) async fn session(&self, token: &str) -> Result<Option<(AuthUser, String, DateTime<Utc>)>, DbError> {
        if !super::cache::well_formed(token) {
            return Ok(None);
        }
        let digest = self.0.token_key.digest(token.as_bytes());
        Ok(self.lookup(&digest).await?.map(|(user, expires)| (user, hex(&digest), expires)))
    }

    /// [`session`](Self::session) by the stored digest (a socket ticket holds it).
    pub(crate) async fn session_of_digest(
        &self,
        digest_hex: &str,
    ) -> Result<Option<(AuthUser, DateTime<Utc>)>, DbError> {
        let mut digest = [0_u8; 32];
        let bytes = digest_hex.as_bytes();
        if bytes.len() != 64 {
            return Ok(None);
        }
        for (i, pair) in bytes.chunks(2).enumerate() {
            let text = std::str::from_utf8(pair).ok();
            match text.and_then(|t| u8::from_str_radix(t, 16).ok()) {
                Some(b) => digest[i] = b,
                None => return Ok(None),
            }
        }
        self.lookup(&digest).await
    }

    /// Of `digests` (hex), those of tokens still valid: not revoked, not expired, user
    /// active. One query, whatever the number.
    pub(crate) async fn still_valid(&self, digests: &[String]) -> Result<std::collections::HashSet<String>, DbError> {
        const SQLITE: &str = "SELECT t.token_digest, t.expires FROM nets_access_token t \
                              JOIN nets_user u ON u.id = t.user_id \
                              WHERE t.token_digest IN (SELECT value FROM json_each($1)) \
                              AND t.revoked_at IS NULL AND u.is_active";
        #[cfg(feature = "postgres")]
        const POSTGRES: &str = "SELECT t.token_digest, t.expires FROM nets_access_token t \
                                JOIN nets_user u ON u.id = t.user_id \
                                WHERE t.token_digest = ANY($1) AND t.revoked_at IS NULL AND u.is_active";
        if digests.is_empty() {
            return Ok(Default::default());
        }
        let rows: Vec<(String, DateTime<Utc>)> = match &self.0.db {
            crate::db::Db::Sqlite(pool) => {
                let list = serde_json::to_string(digests).map_err(|e| DbError::Sync(e.to_string()))?;
                sqlx::query_as(SQLITE).bind(list).fetch_all(pool).await?
            }
            #[cfg(feature = "postgres")]
            crate::db::Db::Postgres(pool) => sqlx::query_as(POSTGRES).bind(digests).fetch_all(pool).await?,
        };
        let now = Utc::now();
        Ok(rows.into_iter().filter(|(_, expires)| *expires > now).map(|(digest, _)| digest).collect())
    }

    /// The shared token generation revocations replace.
    pub(crate) fn revocations(&self) -> Option<&std::sync::Arc<dyn crate::perms::sync::ChangeSync>> {
        self.0.revocations.as_ref().map(|r| &r.0)
    }
}
