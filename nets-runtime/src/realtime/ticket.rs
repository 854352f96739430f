//! Socket tickets for browsers, which cannot put an `Authorization` header on a
//! WebSocket: `POST /ws/ticket/` (authenticated) hands one out, the socket presents it
//! as `?ticket=..`. Single use, short-lived, stored only as a digest, bound to the user
//! and to the access token that asked for it (so it dies with that token).

use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::Realtime;
use crate::auth::{AuthUser, bearer_token_of};
use crate::cache::{Cache, RateLimit};
use crate::keys::{SecretKey, random_token};
use crate::oauth::OAuth;
use crate::prelude::*;

/// A new socket ticket: `{"ticket": "..", "expires_in": 30}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct Ticket {
    /// Present it once, as `?ticket=..` on the socket's URL.
    pub ticket: String,
    /// Seconds it stays valid.
    pub expires_in: u64,
}

/// What the cache holds under a ticket's digest.
#[derive(Serialize, Deserialize)]
struct Stored {
    user: i64,
    identifier: String,
    superuser: bool,
    /// The digest (hex) of the access token that asked for it.
    token: Option<String>,
}

/// At most this many tickets per user per minute: each is a cache entry, and a user
/// must not be able to push other entries (login codes) out of a bounded cache.
const TICKETS_PER_MINUTE: RateLimit = RateLimit::new("ws-ticket", 30, Duration::from_secs(60));

pub(crate) struct Tickets {
    cache: Cache,
    key: SecretKey,
}

impl Tickets {
    pub fn new(cache: Cache, key: SecretKey) -> Tickets {
        Tickets { cache, key }
    }

    fn cache_key(&self, ticket: &str) -> String {
        format!("ws-ticket:{}", self.key.digest_hex(ticket))
    }

    async fn issue(&self, user: &AuthUser, token: Option<String>, ttl: Duration) -> Result<String, ApiError> {
        TICKETS_PER_MINUTE.hit(&self.cache, &user.id.to_string()).await?;
        let ticket = random_token::<32>();
        let stored = Stored { user: user.id, identifier: user.identifier.clone(), superuser: user.is_superuser, token };
        let value = serde_json::to_vec(&stored).map_err(ApiError::internal)?;
        self.cache.set(&self.cache_key(&ticket), &value, ttl).await.map_err(ApiError::internal)?;
        Ok(ticket)
    }

    /// The user of `ticket`, which is used up; with OAuth, its access token is checked
    /// again (a ticket outlives neither a logout nor a deactivation).
    pub async fn redeem(
        &self,
        ticket: &str,
        oauth: Option<&OAuth>,
    ) -> Result<(AuthUser, Option<(Arc<str>, DateTime<Utc>)>), ApiError> {
        let refused = || ApiError::Coded {
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_ticket",
            message: "the ticket is unknown, used or expired: ask POST /ws/ticket/ for a new one".into(),
        };
        // Tickets are 64 hex digits: anything else is refused without a cache round trip.
        if ticket.len() != 64 || !ticket.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(refused());
        }
        let taken = self.cache.take(&self.cache_key(ticket)).await.map_err(ApiError::internal)?;
        let stored: Stored = taken.and_then(|v| serde_json::from_slice(&v).ok()).ok_or_else(refused)?;
        match (stored.token, oauth) {
            (Some(digest), Some(oauth)) => match oauth.session_of_digest(&digest).await {
                Ok(Some((user, expires))) if user.id == stored.user => Ok((user, Some((digest.into(), expires)))),
                Ok(_) => Err(refused()),
                Err(e) => Err(ApiError::internal(e)),
            },
            _ => {
                let user = AuthUser::new(stored.user, stored.identifier);
                Ok((if stored.superuser { user.superuser() } else { user }, None))
            }
        }
    }
}

/// A single-use ticket for opening a WebSocket from a browser: `?ticket=..` on the
/// socket's URL, within `expires_in` seconds. It belongs to the caller and ends with the
/// access token used here.
#[request_handler(path = "ws/ticket/", method = POST, tags = ["realtime"])]
async fn ws_ticket(ctx: Ctx, realtime: State<Realtime>, headers: HeaderMap) -> ApiResult<Ticket> {
    let user = ctx.require_user()?;
    let token = match (bearer_token_of(&headers), ctx.state::<OAuth>()) {
        (Some(token), Some(oauth)) => Some(oauth.token_digest(token)),
        _ => None,
    };
    let ttl = realtime.limits().ticket_ttl;
    let ticket = realtime.tickets().issue(user, token, ttl).await?;
    Ok(Ticket { ticket, expires_in: ttl.as_secs() })
}
