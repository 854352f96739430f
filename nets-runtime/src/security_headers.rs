//! The security headers every response carries, as Django's `SecurityMiddleware` and
//! `XFrameOptionsMiddleware` sent them for the original (settings keep Django's names):
//! `X-Frame-Options`, `X-Content-Type-Options: nosniff`, `Referrer-Policy`,
//! `Cross-Origin-Opener-Policy`, and `Vary: Authorization`.
//!
//! `Vary: Authorization` goes on every answer, anonymous ones too: a shared cache that
//! stored an anonymous answer without it would serve that answer to a signed-in user
//! (and one user's answer to another). A header a handler set itself is left alone.

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::header::{self, HeaderName, HeaderValue};

use crate::Settings;
use crate::settings::SettingsError;

/// The headers to add, computed once from the settings.
#[derive(Clone)]
pub(crate) struct SecurityHeaders(Arc<[(HeaderName, HeaderValue)]>);

impl SecurityHeaders {
    /// From `X_FRAME_OPTIONS`, `SECURE_CONTENT_TYPE_NOSNIFF`, `SECURE_REFERRER_POLICY` and
    /// `SECURE_CROSS_ORIGIN_OPENER_POLICY` (an empty value leaves that header out).
    pub(crate) fn from_settings(settings: &Settings) -> Result<SecurityHeaders, SettingsError> {
        let mut headers = Vec::with_capacity(4);
        let mut add = |key: &'static str, name: HeaderName, value: &str| {
            let value = value.trim();
            if value.is_empty() {
                return Ok(());
            }
            let value =
                HeaderValue::from_str(value).map_err(|_| SettingsError::Header { key, value: value.to_owned() })?;
            headers.push((name, value));
            Ok::<_, SettingsError>(())
        };
        add("X_FRAME_OPTIONS", header::X_FRAME_OPTIONS, &settings.x_frame_options)?;
        let nosniff = if settings.secure_content_type_nosniff { "nosniff" } else { "" };
        add("SECURE_CONTENT_TYPE_NOSNIFF", header::X_CONTENT_TYPE_OPTIONS, nosniff)?;
        add("SECURE_REFERRER_POLICY", header::REFERRER_POLICY, &settings.secure_referrer_policy)?;
        let coop = HeaderName::from_static("cross-origin-opener-policy");
        add("SECURE_CROSS_ORIGIN_OPENER_POLICY", coop, &settings.secure_cross_origin_opener_policy)?;
        Ok(SecurityHeaders(headers.into()))
    }

    /// Adds to an answer's `headers` what it does not set itself, and `Authorization`
    /// to its `Vary`.
    pub(crate) fn stamp(&self, headers: &mut HeaderMap) {
        for (name, value) in self.0.iter() {
            headers.entry(name).or_insert_with(|| value.clone());
        }
        if !headers.get_all(header::VARY).iter().any(|v| varies_by_authorization(v.as_bytes())) {
            headers.append(header::VARY, HeaderValue::from_static("authorization"));
        }
    }
}

/// A `Vary` value that names `Authorization` (or is `*`). Bytes, not text: no UTF-8
/// check on every answer.
fn varies_by_authorization(value: &[u8]) -> bool {
    value.split(|b| *b == b',').map(<[u8]>::trim_ascii).any(|h| h.eq_ignore_ascii_case(b"authorization") || h == b"*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vary_gains_authorization_unless_it_names_it() {
        let stamped = |vary: Option<&'static str>| {
            let mut headers = HeaderMap::new();
            if let Some(vary) = vary {
                headers.insert(header::VARY, HeaderValue::from_static(vary));
            }
            SecurityHeaders::from_settings(&Settings::default()).unwrap().stamp(&mut headers);
            let values: Vec<String> =
                headers.get_all(header::VARY).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
            (values, headers.get(header::X_FRAME_OPTIONS).cloned())
        };
        assert_eq!(stamped(None).0, ["authorization"]);
        assert_eq!(stamped(Some("Accept-Encoding , AUTHORIZATION")).0, ["Accept-Encoding , AUTHORIZATION"]);
        assert_eq!(stamped(Some("*")).0, ["*"]);
        assert_eq!(stamped(Some("origin")).0, ["origin", "authorization"]);
        assert_eq!(stamped(Some("authorization-x")).0, ["authorization-x", "authorization"]);
        assert_eq!(stamped(None).1, Some(HeaderValue::from_static("DENY")));
    }
}
