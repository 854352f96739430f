//! Which nets account a provider identity logs into. The link (provider, subject) is
//! the identity: a returning user is found by it even after changing their address at
//! the provider. A first login links to the account with the address only when the
//! provider vouches for it (the original matched unverified addresses: an account
//! takeover). The signed-in owner of an account links any identity of theirs to it
//! ([`link_to`], `POST /linkSocial/`), and unlinks it ([`unlink`]).

use std::str::FromStr;

use http::StatusCode;

use super::{Identity, Provider};
use crate::db::{Db, on_pool};
use crate::users::{CreateUserError, NewUser, create_user};
use crate::{ApiError, Email};

/// `NETS_CORE_SOCIAL_UNVERIFIED_EMAIL`: what a first login whose provider does not
/// vouch for the address does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnverifiedEmail {
    /// Refused: the user logs in with an e-mail code instead (the default).
    Refuse,
    /// A new, unverified account when nobody has the address; never a link.
    Create,
}

impl FromStr for UnverifiedEmail {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "refuse" | "" => Ok(UnverifiedEmail::Refuse),
            "create" => Ok(UnverifiedEmail::Create),
            other => Err(format!("NETS_CORE_SOCIAL_UNVERIFIED_EMAIL is '{other}': use 'refuse' or 'create'")),
        }
    }
}

/// An address the provider does not vouch for: no account is linked on its word.
fn not_vouched(title: &str, address: &Email) -> ApiError {
    refused(
        "email_not_verified",
        format!("{title} does not confirm that {} is yours: log in with your e-mail code instead", address.as_str()),
    )
}

fn refused(code: &'static str, message: String) -> ApiError {
    ApiError::coded(StatusCode::BAD_REQUEST, code, message)
}

/// The active account `identity` logs into, linked (or created) as the rules say.
pub(crate) async fn account(
    db: &Db,
    provider: Provider,
    identity: &Identity,
    unverified: UnverifiedEmail,
) -> Result<i64, ApiError> {
    const LINKED: &str = "SELECT user_id FROM nets_social_account WHERE provider = $1 AND subject = $2";
    let linked: Option<i64> = on_pool!(db, |pool| sqlx::query_scalar(LINKED)
        .bind(provider.as_str())
        .bind(&identity.subject)
        .fetch_optional(pool)
        .await)
    .map_err(ApiError::internal)?;
    let user = match linked {
        Some(user) => user,
        None => first_login(db, provider, identity, unverified).await?,
    };
    record(db, provider, identity, user).await?;
    fill_names(db, user, identity).await?;
    const ACTIVE: &str = "SELECT is_active FROM nets_user WHERE id = $1";
    let active: Option<bool> = on_pool!(db, |pool| sqlx::query_scalar(ACTIVE).bind(user).fetch_optional(pool).await)
        .map_err(ApiError::internal)?;
    match active {
        Some(true) => Ok(user),
        _ => Err(refused("account_inactive", "this account is inactive".into())),
    }
}

async fn first_login(
    db: &Db,
    provider: Provider,
    identity: &Identity,
    unverified: UnverifiedEmail,
) -> Result<i64, ApiError> {
    let title = provider.title();
    let address = identity.email.as_deref().and_then(Email::parse).ok_or_else(|| {
        refused("no_email", format!("{title} did not share a usable e-mail address: log in with your e-mail code"))
    })?;
    const OWNER: &str = "SELECT id FROM nets_user WHERE lower(email) = $1";
    let owner: Option<i64> =
        on_pool!(db, |pool| sqlx::query_scalar(OWNER).bind(address.as_str()).fetch_optional(pool).await)
            .map_err(ApiError::internal)?;
    if !identity.email_verified {
        let may_create = unverified == UnverifiedEmail::Create && owner.is_none();
        if !may_create {
            return Err(not_vouched(title, &address));
        }
    }
    if let Some(owner) = owner {
        return Ok(owner);
    }
    let mut new = NewUser::new(address.clone());
    new.email_verified = identity.email_verified;
    new.first_name = name(&identity.first_name);
    new.last_name = name(&identity.last_name);
    match create_user(db, new).await {
        Ok(id) => Ok(id),
        // Created meanwhile by a concurrent login or sign-up: that account, but only for
        // an address the provider vouches for (never a link on an unverified one).
        Err(CreateUserError::Exists) if identity.email_verified => {
            on_pool!(db, |pool| sqlx::query_scalar(OWNER).bind(address.as_str()).fetch_one(pool).await)
                .map_err(ApiError::internal)
        }
        Err(CreateUserError::Exists) => Err(not_vouched(title, &address)),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// A name as the user columns take it: at most 150 characters (`VARCHAR(150)`), so a
/// long name from a provider or a client is cut rather than refused by PostgreSQL.
fn name(value: &Option<String>) -> String {
    value.as_deref().unwrap_or_default().trim().chars().take(150).collect()
}

/// Stores the link (or refreshes it): the address and profile as the provider sent them
/// this time.
async fn record(db: &Db, provider: Provider, identity: &Identity, user: i64) -> Result<(), ApiError> {
    const UPSERT: &str = "INSERT INTO nets_social_account (user_id, provider, subject, email, email_verified, profile, \
                          last_login) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                          ON CONFLICT (provider, subject) DO UPDATE SET email = excluded.email, \
                          email_verified = excluded.email_verified, profile = excluded.profile, \
                          last_login = excluded.last_login, updated = excluded.last_login";
    let now = chrono::Utc::now();
    let profile = sqlx::types::Json(&identity.profile);
    on_pool!(db, |pool| sqlx::query(UPSERT)
        .bind(user)
        .bind(provider.as_str())
        .bind(&identity.subject)
        .bind(&identity.email)
        .bind(identity.email_verified)
        .bind(profile)
        .bind(now)
        .execute(pool)
        .await
        .map(drop))
    .map_err(ApiError::internal)
}

/// Names from the provider fill the account's only while they are empty: what the user
/// typed is never overwritten (the original overwrote names on every login).
async fn fill_names(db: &Db, user: i64, identity: &Identity) -> Result<(), ApiError> {
    if identity.first_name.is_none() && identity.last_name.is_none() {
        return Ok(());
    }
    const FILL: &str = "UPDATE nets_user SET \
                        first_name = CASE WHEN first_name = '' AND $2 <> '' THEN $2 ELSE first_name END, \
                        last_name = CASE WHEN last_name = '' AND $3 <> '' THEN $3 ELSE last_name END \
                        WHERE id = $1 AND ((first_name = '' AND $2 <> '') OR (last_name = '' AND $3 <> ''))";
    let (first, last) = (name(&identity.first_name), name(&identity.last_name));
    on_pool!(db, |pool| sqlx::query(FILL).bind(user).bind(&first).bind(&last).execute(pool).await.map(drop))
        .map_err(ApiError::internal)
}

/// Links `identity` to the signed-in `user` (`POST /linkSocial/`): the owner's word, so
/// the link is kept whatever the provider says of the address (a code login that proves
/// the address keeps it). Linking it again refreshes it; an identity linked to another
/// account is refused (`identity_in_use`), never moved.
pub(crate) async fn link_to(db: &Db, provider: Provider, identity: &Identity, user: i64) -> Result<(), ApiError> {
    // One statement: a concurrent link of the same identity to another account loses
    // the race cleanly (the conflict's `WHERE` fails, no row comes back).
    const LINK: &str = "INSERT INTO nets_social_account (user_id, provider, subject, email, email_verified, profile, \
                        linked_by_owner) VALUES ($1, $2, $3, $4, $5, $6, TRUE) \
                        ON CONFLICT (provider, subject) DO UPDATE SET linked_by_owner = TRUE, email = excluded.email, \
                        email_verified = excluded.email_verified, profile = excluded.profile, updated = $7 \
                        WHERE nets_social_account.user_id = excluded.user_id RETURNING user_id";
    let profile = sqlx::types::Json(&identity.profile);
    let linked: Option<i64> = on_pool!(db, |pool| sqlx::query_scalar(LINK)
        .bind(user)
        .bind(provider.as_str())
        .bind(&identity.subject)
        .bind(&identity.email)
        .bind(identity.email_verified)
        .bind(profile)
        .bind(chrono::Utc::now())
        .fetch_optional(pool)
        .await)
    .map_err(ApiError::internal)?;
    match linked {
        Some(_) => Ok(()),
        None => {
            Err(refused("identity_in_use", format!("this {} account is linked to another account", provider.title())))
        }
    }
}

/// Removes `user`'s identities at `provider`; how many there were. The account keeps
/// its e-mail code login.
pub(crate) async fn unlink(db: &Db, provider: Provider, user: i64) -> Result<u64, ApiError> {
    const UNLINK: &str = "DELETE FROM nets_social_account WHERE user_id = $1 AND provider = $2";
    on_pool!(db, |pool| sqlx::query(UNLINK)
        .bind(user)
        .bind(provider.as_str())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
    .map_err(ApiError::internal)
}
