//! [`BearerAuth`]: OAuth2 access tokens in the `Authorization` header (RFC 6750 §2.1).

use axum::http::request::Parts;

use super::OAuth;
use crate::auth::{AuthUser, Authenticator, MaybeAsync, bearer_token};
use crate::{ApiError, App};

/// Authenticates `Authorization: Bearer <access token>` (the header only: tokens in
/// query strings end up in logs). No header: anonymous. A token that is unknown,
/// expired, revoked, or whose user is inactive or deleted: 401 with
/// `WWW-Authenticate: Bearer error="invalid_token"` on private endpoints.
///
/// Each authenticated request costs one indexed query (the token's digest, joined with
/// its user), so revocation and deactivation take effect on the next request.
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

impl Authenticator for BearerAuth {
    fn authenticate<'a>(
        &'a self,
        request: &'a Parts,
        _: &'a App,
    ) -> MaybeAsync<'a, Result<Option<AuthUser>, ApiError>> {
        let Some(token) = bearer_token(request) else { return MaybeAsync::ready(Ok(None)) };
        // Our tokens are 64 hex digits: anything else cannot match, so spare the query.
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return MaybeAsync::ready(Err(invalid_token()));
        }
        MaybeAsync::boxed(async move {
            match self.oauth.user_for_access_token(token).await {
                Ok(Some(user)) => Ok(Some(user)),
                Ok(None) => Err(invalid_token()),
                Err(e) => Err(ApiError::internal(e)),
            }
        })
    }
}
