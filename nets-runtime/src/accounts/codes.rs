//! One-time login codes: issued by `/login/`, consumed by `/authenticate/`.
//!
//! A code is kept only as `HMAC(key, "<user id>:<code>")` in `nets_verification_code`,
//! so it is bound to its user and useless to whoever reads the table. A login for an
//! identifier with no account keeps its code as `HMAC(key, "pending:<identifier>:<code>")`
//! under the identifier (with the address it went to and the login's device), and the
//! first successful check creates the account. The database (not
//! a per-process cache) holds them, so every instance sharing it accepts a code another
//! issued. Consumption is one conditional `UPDATE`: of N concurrent correct tries,
//! exactly one changes the row.
//!
//! A failed check must take as long whoever is logging in (issue 11 item 10): counting a
//! wrong try in the database is a write, which made a wrong code for an account with a
//! pending code several times slower than a try for an unknown address. So every check
//! runs the same reads (a missing account looks up the codes of user 0, which has none),
//! every failure counts itself in the cache (the code's counter, or one nobody reads), and
//! the durable `attempts + 1` is written after the answer. The cache counter is what
//! stops a sixth try arriving before that write lands: a code is dead when either count
//! reaches [`MAX_ATTEMPTS`].

use chrono::{DateTime, SubsecRound, Utc};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::Accounts;
use super::devices::{self, DeviceInput, DeviceRow};
use crate::db::Db;
use crate::oauth::on_pool;
use crate::users::Identifier;
use crate::{ApiError, Ctx};

/// Wrong tries after which a code is dead, even for the right code.
pub const MAX_ATTEMPTS: i32 = 5;

/// The one answer for every failed code check, so nobody learns which part was wrong
/// (or whether the account exists).
pub(super) fn invalid_code() -> ApiError {
    ApiError::bad_request("Invalid code for this user and device")
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// `length` random digits from the OS CSPRNG (rejection sampling keeps them uniform).
fn random_digits(length: usize) -> String {
    let mut out = String::with_capacity(length);
    while out.len() < length {
        let mut bytes = [0u8; 16];
        rand::fill(&mut bytes[..]);
        for b in bytes {
            // 250 = 25 * 10: bytes above it would favour the low digits.
            if b < 250 && out.len() < length {
                out.push(char::from(b'0' + b % 10));
            }
        }
    }
    out
}

/// Retires earlier codes (`$retire`) and stores the new one (`$insert`), both bound to the
/// same `$value`s, atomically. PostgreSQL: one statement (a data-modifying CTE with
/// `$insert_pg`), so one round trip and no transaction left open between awaits (this
/// runs after the answer, in a task a shutting-down runtime may drop). SQLite, which has
/// no data-modifying CTEs: both in one transaction.
macro_rules! retire_then_insert {
    ($db:expr, $retire:expr, $insert_pg:expr, $insert:expr, [$($value:expr),+ $(,)?]) => {
        match $db {
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => {
                sqlx::query(sqlx::AssertSqlSafe(format!("WITH retired AS ({}) {}", $retire, $insert_pg)))
                    $(.bind($value))+
                    .execute(pool)
                    .await
                    .map_err(ApiError::internal)?;
            }
            Db::Sqlite(pool) => {
                let mut tx = pool.begin().await.map_err(ApiError::internal)?;
                for sql in [$retire, $insert] {
                    sqlx::query(sql)$(.bind($value))+.execute(&mut *tx).await.map_err(ApiError::internal)?;
                }
                tx.commit().await.map_err(ApiError::internal)?;
            }
        }
    };
}

impl Accounts {
    pub(super) fn code_digest(&self, user: i64, code: &str) -> String {
        self.0.code_key.digest_hex(&format!("{user}:{code}"))
    }

    /// The digest of a code for `identifier`, which has no account yet (a namespace of
    /// its own: a numeric username never shares a user id's digests).
    pub(super) fn pending_digest(&self, identifier: &str, code: &str) -> String {
        self.0.code_key.digest_hex(&format!("pending:{}:{code}", identifier.to_lowercase()))
    }

    /// Stores `code` for `identifier`, which has no account yet, with the `address` it
    /// is sent to and the login's `device` (as [`DeviceInput::to_pending`] wrote it),
    /// retiring the identifier's earlier unused codes. The account is created by the
    /// first successful check ([`consume`]).
    ///
    /// [`DeviceInput::to_pending`]: super::devices::DeviceInput::to_pending
    pub(super) async fn store_pending_code(
        &self,
        identifier: &str,
        address: &str,
        device: Option<String>,
        code: &str,
        ip: Option<String>,
    ) -> Result<(), ApiError> {
        let now = now();
        let digest = self.pending_digest(identifier, code);
        let expires = now + self.0.code_ttl;
        const RETIRE: &str = "UPDATE nets_verification_code SET consumed_at = $7, updated = $7 \
                              WHERE user_id IS NULL AND lower(identifier) = lower($1) AND consumed_at IS NULL";
        const INSERT: &str = "INSERT INTO nets_verification_code \
                              (identifier, address, device, code_digest, ip, expires, created, updated) \
                              VALUES ($1, $2, $3, $4, $5, $6, $7, $7)";
        #[cfg(feature = "postgres")]
        const INSERT_PG: &str = "INSERT INTO nets_verification_code \
                                 (identifier, address, device, code_digest, ip, expires, created, updated) \
                                 VALUES ($1, $2, CAST($3 AS JSONB), $4, $5, $6, $7, $7)";
        retire_then_insert!(
            self.0.oauth.db(),
            RETIRE,
            INSERT_PG,
            INSERT,
            [identifier, address, device.as_deref(), &digest, ip.as_deref(), expires, now]
        );
        Ok(())
    }

    /// The code for a login to `address`: the tester code (only for an `existing`
    /// account: the tester path never creates one), the debug code, or a fresh random one.
    pub(super) fn new_code(&self, address: &str, existing: bool) -> (String, bool) {
        if let Some(code) = &self.0.tester_code
            && existing
            && self.is_tester(address)
        {
            return (code.clone(), true);
        }
        match &self.0.debug_code {
            Some(code) => (code.clone(), true),
            None => (random_digits(self.0.code_length), false),
        }
    }

    /// Stores `code` for `user` (bound to `device` when given), retiring every earlier
    /// unused code of the user.
    pub(super) async fn store_code(
        &self,
        user: i64,
        device: Option<i64>,
        code: &str,
        ip: Option<String>,
    ) -> Result<(), ApiError> {
        let now = now();
        let digest = self.code_digest(user, code);
        let expires = now + self.0.code_ttl;
        const RETIRE: &str = "UPDATE nets_verification_code SET consumed_at = $6, updated = $6 \
                              WHERE user_id = $1 AND consumed_at IS NULL";
        const INSERT: &str = "INSERT INTO nets_verification_code \
                              (user_id, device_id, code_digest, ip, expires, created, updated) \
                              VALUES ($1, $2, $3, $4, $5, $6, $6)";
        retire_then_insert!(
            self.0.oauth.db(),
            RETIRE,
            INSERT,
            INSERT,
            [user, device, &digest, ip.as_deref(), expires, now]
        );
        Ok(())
    }
}

/// Digits only, and not absurdly long.
pub(super) fn well_formed(code: &str) -> bool {
    !code.is_empty() && code.len() <= 32 && code.bytes().all(|b| b.is_ascii_digit())
}

type CodeRow = (i64, Option<i64>, String, i32, DateTime<Utc>, Option<DateTime<Utc>>);

/// Checks and consumes the newest code of the user `identifier` names; the user's id on
/// success. A wrong code counts an attempt. An identifier with no account yet is checked
/// against its pending code; with `create` (`/authenticate/`) the right code creates the
/// account, without it (`/delete/`) there is nothing to act on and the check fails.
pub(super) async fn consume(
    accounts: &Accounts,
    identifier: &str,
    code: &str,
    device_uuid: Option<Uuid>,
    create: bool,
) -> Result<i64, ApiError> {
    let code = code.trim();
    if !well_formed(code) {
        return Err(invalid_code());
    }
    let db = accounts.0.oauth.db();
    let column = accounts.0.users.identifier().column();
    let user_sql = match column {
        "email" => "SELECT id FROM nets_user WHERE lower(email) = $1 AND is_active",
        _ => "SELECT id FROM nets_user WHERE lower(username) = lower($1) AND is_active",
    };
    let user: Option<i64> =
        on_pool!(db, |pool| sqlx::query_scalar(user_sql).bind(identifier).fetch_optional(pool).await)
            .map_err(ApiError::internal)?;
    // Either way: one digest, one code lookup, the same failure bookkeeping.
    match user {
        Some(user) => {
            consume_for_user(accounts, user, &accounts.code_digest(user, code), device_uuid).await?;
            Ok(user)
        }
        None => {
            let digest = accounts.pending_digest(identifier, code);
            consume_pending(accounts, identifier, &digest, device_uuid, create).await
        }
    }
}

/// id, identifier as the login spelled it, address, device, digest, attempts, expires, consumed.
type PendingRow = (i64, String, Option<String>, Option<String>, String, i32, DateTime<Utc>, Option<DateTime<Utc>>);

/// Checks and consumes the newest pending code of `identifier` (no account yet); with
/// `create`, creates the account (and the login's device) and returns its id.
async fn consume_pending(
    accounts: &Accounts,
    identifier: &str,
    digest: &str,
    device_uuid: Option<Uuid>,
    create: bool,
) -> Result<i64, ApiError> {
    let db = accounts.0.oauth.db();
    let row: Option<PendingRow> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT id, identifier, address, CAST(device AS TEXT), code_digest, attempts, expires, consumed_at \
         FROM nets_verification_code WHERE user_id IS NULL AND lower(identifier) = lower($1) \
         ORDER BY id DESC LIMIT 1"
    )
    .bind(identifier)
    .fetch_optional(pool)
    .await)
    .map_err(ApiError::internal)?;
    let recent_failures = accounts.recent_failures(row.as_ref().map_or(0, |r| r.0)).await?;
    let Some((id, spelled, address, device, stored, attempts, expires, consumed)) = row else {
        return Err(accounts.failed_check(None).await);
    };
    if consumed.is_some() || attempts.max(recent_failures.try_into().unwrap_or(i32::MAX)) >= MAX_ATTEMPTS {
        return Err(accounts.failed_check(None).await);
    }
    if expires <= Utc::now() {
        return Err(accounts.failed_check(None).await);
    }
    let device = match device.as_deref() {
        Some(stored) => match DeviceInput::from_pending(stored) {
            Some((uuid, input)) if device_uuid == Some(uuid) => Some((uuid, input)),
            _ => return Err(accounts.failed_check(None).await),
        },
        None => None,
    };
    if !bool::from(stored.as_bytes().ct_eq(digest.as_bytes())) {
        return Err(accounts.failed_check(Some(id)).await);
    }
    let (true, Some(address)) = (create, address) else { return Err(accounts.failed_check(None).await) };
    let now = now();
    if !mark_consumed(db, id, now).await? {
        return Err(invalid_code());
    }
    // Usernames are kept as the login typed them.
    let Some(user) = create_account(db, accounts.0.users.identifier(), &spelled, &address).await? else {
        return Err(invalid_code());
    };
    // The identifier's pending codes are spent or retired: from now on its codes are the
    // account's (and go with it).
    on_pool!(db, |pool| sqlx::query(
        "DELETE FROM nets_verification_code WHERE user_id IS NULL AND lower(identifier) = lower($1)"
    )
    .bind(identifier)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))
    .map_err(ApiError::internal)?;
    let device = match device {
        Some((uuid, input)) => Some(devices::save(db, user, DeviceRow::New(uuid), &input).await?),
        None => None,
    };
    record_login(db, user, device, now).await?;
    Ok(user)
}

/// Creates the account of `identifier`, whose code was just proved, with `address`; its
/// id, or `None` when it cannot be created. Only the identifier (and, for username
/// logins, the address) is written: no other request field ever reaches the row. An
/// e-mail account created meanwhile by another login is the same person's (the code went
/// to that address) and is used; a username taken meanwhile, or whose address another
/// account has taken, is someone else's: nothing is created.
async fn create_account(db: &Db, kind: Identifier, identifier: &str, address: &str) -> Result<Option<i64>, ApiError> {
    let created: Option<i64> = on_pool!(db, |pool| match kind {
        Identifier::Email =>
            sqlx::query_scalar("INSERT INTO nets_user (email) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id")
                .bind(identifier)
                .fetch_optional(pool)
                .await,
        Identifier::Username =>
            sqlx::query_scalar(
                "INSERT INTO nets_user (username, email) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id"
            )
            .bind(identifier)
            .bind(address)
            .fetch_optional(pool)
            .await,
    })
    .map_err(ApiError::internal)?;
    match (created, kind) {
        (Some(id), _) => Ok(Some(id)),
        (None, Identifier::Email) => {
            on_pool!(db, |pool| sqlx::query_scalar("SELECT id FROM nets_user WHERE lower(email) = $1 AND is_active")
                .bind(identifier)
                .fetch_optional(pool)
                .await)
            .map_err(ApiError::internal)
        }
        (None, Identifier::Username) => Ok(None),
    }
}

/// Marks code row `id` used, unless it was used or died meanwhile; `true` when this call
/// did it (of concurrent correct tries, exactly one).
async fn mark_consumed(db: &Db, id: i64, now: DateTime<Utc>) -> Result<bool, ApiError> {
    let done = on_pool!(db, |pool| sqlx::query(
        "UPDATE nets_verification_code SET consumed_at = $1, updated = $1 \
         WHERE id = $2 AND consumed_at IS NULL AND attempts < $3"
    )
    .bind(now)
    .bind(id)
    .bind(MAX_ATTEMPTS)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))
    .map_err(ApiError::internal)?;
    Ok(done == 1)
}

/// A successful login: the address is verified, and the user's and device's last login set.
async fn record_login(db: &Db, user: i64, device: Option<i64>, now: DateTime<Utc>) -> Result<(), ApiError> {
    on_pool!(db, |pool| {
        let mut tx = pool.begin().await.map_err(ApiError::internal)?;
        sqlx::query("UPDATE nets_user SET email_verified = TRUE, last_login = $1, updated = $1 WHERE id = $2")
            .bind(now)
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(ApiError::internal)?;
        // The owner just proved the address: social identities that claimed it without
        // their provider vouching for it (`NETS_CORE_SOCIAL_UNVERIFIED_EMAIL = "create"`)
        // were not the owner's word, and lose the account; those the owner linked stay.
        sqlx::query(
            "DELETE FROM nets_social_account WHERE user_id = $1 AND email_verified = FALSE AND NOT linked_by_owner",
        )
        .bind(user)
        .execute(&mut *tx)
        .await
        .map_err(ApiError::internal)?;
        if let Some(device) = device {
            sqlx::query("UPDATE nets_user_device SET last_login = $1, updated = $1 WHERE id = $2")
                .bind(now)
                .bind(device)
                .execute(&mut *tx)
                .await
                .map_err(ApiError::internal)?;
        }
        tx.commit().await.map_err(ApiError::internal)?;
    });
    Ok(())
}

/// The cache key counting wrong tries of code row `id`.
fn failures_key(id: i64) -> String {
    format!("code-failures:{id}")
}

/// Failures that count against no code (unknown account, no live code, another device)
/// go here, so they cost the same cache write as a wrong code; nobody reads it.
const UNCOUNTED_FAILURES: &str = "code-failures:uncounted";

impl Accounts {
    /// Wrong tries of code row `id` counted in the cache (those whose database write may
    /// not have landed yet).
    async fn recent_failures(&self, id: i64) -> Result<i64, ApiError> {
        let stored = self.0.cache.get(&failures_key(id)).await.map_err(ApiError::internal)?;
        Ok(stored.and_then(|bytes| std::str::from_utf8(&bytes).ok()?.parse().ok()).unwrap_or(0))
    }

    /// Records a failed check and answers it. `wrong_try` is the code row a wrong code was
    /// tried against: its cache counter is raised now and its `attempts` after the answer.
    async fn failed_check(&self, wrong_try: Option<i64>) -> ApiError {
        let window = self.0.code_ttl.to_std().unwrap_or(std::time::Duration::from_secs(600));
        let key = wrong_try.map_or_else(|| UNCOUNTED_FAILURES.to_owned(), failures_key);
        if let Err(error) = self.0.cache.incr(&key, window).await {
            return ApiError::internal(error);
        }
        if let Some(id) = wrong_try {
            let db = self.0.oauth.db().clone();
            tokio::spawn(async move {
                let counted = on_pool!(&db, |pool| sqlx::query(
                    "UPDATE nets_verification_code SET attempts = attempts + 1 WHERE id = $1"
                )
                .bind(id)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()));
                if let Err(error) = counted {
                    tracing::error!(%error, "a wrong code try could not be counted in the database");
                }
            });
        }
        invalid_code()
    }
}

impl Accounts {
    /// The account a one-time `code` proves (consumed): the signed-in user's (a bearer
    /// token), or `identifier`'s without one. Wrong codes count as `/authenticate/`'s do.
    /// `/delete/` and `/linkSocial/` take this proof.
    pub(crate) async fn account_by_code(
        &self,
        ctx: &Ctx,
        code: &str,
        identifier: Option<&str>,
        device_uuid: Option<Uuid>,
    ) -> Result<i64, ApiError> {
        match ctx.user() {
            Some(user) => {
                let user = user.id;
                self.count_code_check(ctx, &format!("user:{user}"), device_uuid).await?;
                if !well_formed(code) {
                    return Err(invalid_code());
                }
                consume_for_user(self, user, &self.code_digest(user, code), device_uuid).await?;
                Ok(user)
            }
            None => {
                let column = self.0.users.identifier().column();
                let raw = identifier.filter(|i| !i.trim().is_empty());
                let raw = raw.ok_or_else(|| ApiError::bad_request(format!("Missing params: {column}")))?;
                super::input::limit(column, raw, 254)?;
                let identifier = self.normalize_identifier(raw)?;
                self.count_code_check(ctx, &identifier, device_uuid).await?;
                consume(self, &identifier, code, device_uuid, false).await
            }
        }
    }
}

/// Checks and consumes the newest code of `user` against the code's `digest`.
pub(super) async fn consume_for_user(
    accounts: &Accounts,
    user: i64,
    digest: &str,
    device_uuid: Option<Uuid>,
) -> Result<(), ApiError> {
    let db = accounts.0.oauth.db();
    let row: Option<CodeRow> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT id, device_id, code_digest, attempts, expires, consumed_at FROM nets_verification_code \
         WHERE user_id = $1 ORDER BY id DESC LIMIT 1"
    )
    .bind(user)
    .fetch_optional(pool)
    .await)
    .map_err(ApiError::internal)?;
    // Read for every check, with or without a code, so all take the same steps.
    let recent_failures = accounts.recent_failures(row.as_ref().map_or(0, |r| r.0)).await?;
    let Some((id, device, stored, attempts, expires, consumed)) = row else {
        return Err(accounts.failed_check(None).await);
    };
    if consumed.is_some() || attempts.max(recent_failures.try_into().unwrap_or(i32::MAX)) >= MAX_ATTEMPTS {
        return Err(accounts.failed_check(None).await);
    }
    if expires <= Utc::now() {
        return Err(accounts.failed_check(None).await);
    }
    if let Some(device) = device {
        let Some(uuid) = device_uuid else { return Err(accounts.failed_check(None).await) };
        let owner: Option<i64> =
            on_pool!(db, |pool| sqlx::query_scalar("SELECT id FROM nets_user_device WHERE uuid = $1 AND user_id = $2")
                .bind(uuid)
                .bind(user)
                .fetch_optional(pool)
                .await)
            .map_err(ApiError::internal)?;
        if owner != Some(device) {
            return Err(accounts.failed_check(None).await);
        }
    }
    if !bool::from(stored.as_bytes().ct_eq(digest.as_bytes())) {
        return Err(accounts.failed_check(Some(id)).await);
    }
    let now = now();
    if !mark_consumed(db, id, now).await? {
        return Err(invalid_code());
    }
    record_login(db, user, device, now).await
}

#[cfg(test)]
mod tests {
    use super::random_digits;

    #[test]
    fn codes_are_digits_of_the_asked_length_and_vary() {
        let a = random_digits(6);
        assert_eq!(a.len(), 6);
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
        let distinct: std::collections::HashSet<String> = (0..50).map(|_| random_digits(8)).collect();
        assert!(distinct.len() > 45, "CSPRNG codes repeat: {distinct:?}");
    }
}
