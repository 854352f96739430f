//! A provider's signing keys (JWKS), cached as long as its `Cache-Control: max-age`
//! says. A token naming a key id the cache does not hold makes one refetch (key
//! rotation), but never more often than `NETS_CORE_SOCIAL_JWKS_MIN_REFRESH_SECONDS`, so
//! tokens with made-up key ids cannot make nets hammer the provider. One fetch at a time:
//! concurrent logins wait for it rather than fetching too.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;
use tokio::sync::Mutex;

use super::SocialError;

/// How long keys are kept when the provider sends no `max-age`, and at most.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(3600);
const LONGEST_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

pub(crate) struct Jwks {
    url: String,
    http: reqwest::Client,
    min_refresh: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, Arc<DecodingKey>>,
    fetched_at: Option<Instant>,
    fresh_until: Option<Instant>,
}

impl Jwks {
    pub(crate) fn new(url: String, http: reqwest::Client, min_refresh: Duration) -> Jwks {
        Jwks { url, http, min_refresh, state: Mutex::new(State::default()) }
    }

    /// The key with id `kid`: cached, or after a fetch when the cache is stale or does
    /// not know it (at most once per `min_refresh`).
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, SocialError> {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        let stale = state.fresh_until.is_none_or(|until| now >= until);
        if !stale && let Some(key) = state.keys.get(kid) {
            return Ok(key.clone());
        }
        // Stale keys are refreshed at most once per `min_refresh` as well.
        let may_fetch = state.fetched_at.is_none_or(|at| now.duration_since(at) >= self.min_refresh);
        if may_fetch {
            // Counted whatever the outcome: a failing key server is not asked again for
            // every made-up key id either.
            state.fetched_at = Some(now);
            match self.fetch().await {
                Ok((keys, max_age)) => {
                    state.keys = keys;
                    state.fresh_until = Some(now + max_age.max(self.min_refresh));
                }
                // The keys last fetched still verify tokens while the provider is out.
                Err(e) if !state.keys.contains_key(kid) => return Err(e),
                Err(e) => {
                    tracing::warn!(error = %e, url = %self.url, "provider keys could not be refreshed; using the cached ones")
                }
            }
        }
        state.keys.get(kid).cloned().ok_or(SocialError::UnknownKey)
    }

    async fn fetch(&self) -> Result<(HashMap<String, Arc<DecodingKey>>, Duration), SocialError> {
        let response = self.http.get(&self.url).send().await.map_err(SocialError::unreachable)?;
        if !response.status().is_success() {
            return Err(SocialError::Unavailable(format!("its keys answered {}", response.status())));
        }
        let max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age)
            .unwrap_or(DEFAULT_MAX_AGE)
            .min(LONGEST_MAX_AGE);
        let set: JwkSet =
            response.json().await.map_err(|e| SocialError::Unavailable(format!("its keys are not a JWK set ({e})")))?;
        // RSA keys with an id only: every provider here signs with RS256 and names its key.
        let keys = set
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                let key = match &jwk.algorithm {
                    jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) => {
                        DecodingKey::from_rsa_components(&rsa.n, &rsa.e).ok()?
                    }
                    _ => return None,
                };
                Some((kid, Arc::new(key)))
            })
            .collect();
        Ok((keys, max_age))
    }
}

/// `max-age` of a `Cache-Control` value.
fn max_age(value: &str) -> Option<Duration> {
    value.split(',').find_map(|directive| {
        let (name, seconds) = directive.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("max-age")
            .then(|| seconds.trim().parse().ok())
            .flatten()
            .map(Duration::from_secs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        let google = "public, max-age=19855, must-revalidate, no-transform";
        assert_eq!(max_age(google), Some(Duration::from_secs(19855)));
        assert_eq!(max_age("Max-Age = 60"), Some(Duration::from_secs(60)));
        assert_eq!(max_age("no-store"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }
}
