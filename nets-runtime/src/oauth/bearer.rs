//! [`BearerAuth`]: OAuth2 access tokens in the `Authorization` header (RFC 6750 §2.1).

use axum::http::request::Parts;

use super::OAuth;
use crate::auth::{AuthUser, Authenticator, MaybeAsync, bearer_token};
use crate::db::DbError;
use crate::{ApiError, App};

/// Authenticates `Authorization: Bearer <access token>` (the header only: tokens in
/// query strings end up in logs). No header: anonymous. A token that is malformed,
/// unknown, expired, revoked, or whose user is inactive or deleted: 401 with
/// `WWW-Authenticate: Bearer error="invalid_token"` on private endpoints.
///
/// A malformed token (not 64 hex digits) costs nothing: it cannot be ours. Otherwise, by
/// default, each request costs one indexed query (the token's digest, joined with its
/// user), so revocation and deactivation take effect on the next request. With the token
/// cache on ([`OAuth::from_settings`] and `NETS_CORE_TOKEN_CACHE_SECONDS`, or
/// [`OAuth::with_token_cache`]) a token seen recently costs no query: revocations made
/// through nets still apply to the next request on every instance, edits made in your
/// own SQL once the cache time runs out or [`OAuth::invalidate_tokens`] is called.
///
/// ```no_run
/// # async fn demo(settings: nets_runtime::Settings, db: nets_runtime::db::Db) -> Result<(), nets_runtime::oauth::SetupError> {
/// let oauth = nets_runtime::oauth::OAuth::from_settings(&settings, &db).await?;
/// // `.install(oauth)` sets it too, unless the app has its own authenticator.
/// let app = nets_runtime::App::builder(settings).database(db).authenticator(oauth.bearer()).build();
/// # let _ = app; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct BearerAuth {
    oauth: OAuth,
}

impl BearerAuth {
    /// Bearer authentication with `oauth`'s tokens (also [`OAuth::bearer`]).
    pub fn new(oauth: OAuth) -> BearerAuth {
        BearerAuth { oauth }
    }
}

/// The RFC 6750 §3.1 answer to a bad token.
pub(crate) fn invalid_token() -> ApiError {
    ApiError::Unauthorized { challenge: Some("error=\"invalid_token\"".into()) }
}

/// A lookup's answer as authentication's: a token that finds no user is refused.
fn answer(found: Result<Option<AuthUser>, DbError>) -> Result<Option<AuthUser>, ApiError> {
    match found {
        Ok(Some(user)) => Ok(Some(user)),
        Ok(None) => Err(invalid_token()),
        Err(e) => Err(ApiError::internal(e)),
    }
}

impl Authenticator for BearerAuth {
    fn authenticate<'a>(
        &'a self,
        request: &'a Parts,
        _: &'a App,
    ) -> MaybeAsync<'a, Result<Option<AuthUser>, ApiError>> {
        let Some(token) = bearer_token(request) else { return MaybeAsync::ready(Ok(None)) };
        match self.oauth.access_token_user(token) {
            MaybeAsync::Ready(Some(found)) => MaybeAsync::ready(answer(found)),
            pending => MaybeAsync::boxed(async move { answer(pending.await) }),
        }
    }
}
