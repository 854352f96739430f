//! The OpenAPI operations of `POST /o/token/` and `POST /o/revoke_token/`.

use serde_json::json;
use utoipa::openapi::OpenApi;

use super::OAuth;
use crate::openapi::fragment::{document, operation};

const TAG: &str = "oauth2";

impl OAuth {
    /// The token endpoints as OpenAPI operations (form bodies, RFC 6749 answers and
    /// errors, HTTP Basic client authentication). Installing OAuth adds them to
    /// `/openapi.json`; an app that mounts [`OAuth::router`] itself adds them with
    /// [`AppBuilder::document`](crate::AppBuilder::document).
    ///
    /// ```no_run
    /// # fn demo(settings: nets_runtime::Settings, oauth: nets_runtime::oauth::OAuth) {
    /// use nets_runtime::routing::Routes;
    /// let app = nets_runtime::App::builder(settings)
    ///     .routes(Routes::new().axum(oauth.router()))
    ///     .document(oauth.openapi())
    ///     .build();
    /// # let _ = app; }
    /// ```
    pub fn openapi(&self) -> OpenApi {
        // RFC 6749 §2.3.1: the client authenticates with HTTP Basic or in the body.
        let client = json!([{"oauthClientBasic": []}, {}]);
        let oauth_error = |description: &str| {
            json!({"description": description, "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"error": {"type": "string", "enum": [
                    "invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type",
                    "invalid_scope", "server_error"]},
                    "error_description": {"type": "string"}},
                "required": ["error"],
            }}}})
        };
        let form = |schema: serde_json::Value| json!({"required": true, "content": {"application/x-www-form-urlencoded": {"schema": schema}}});
        let credentials = json!({"client_id": {"type": "string"}, "client_secret": {"type": "string"}});
        let mut refresh = json!({"type": "object", "properties": {
            "grant_type": {"type": "string", "enum": ["refresh_token"]},
            "refresh_token": {"type": "string"},
        }, "required": ["grant_type", "refresh_token"]});
        let mut revoke = json!({"type": "object", "properties": {
            "token": {"type": "string"},
            "token_type_hint": {"type": "string", "enum": ["access_token", "refresh_token"]},
        }, "required": ["token"]});
        for schema in [&mut refresh, &mut revoke] {
            if let (Some(properties), Some(extra)) = (schema["properties"].as_object_mut(), credentials.as_object()) {
                properties.extend(extra.clone());
            }
        }
        let tokens = json!({"type": "object", "properties": {
            "access_token": {"type": "string"},
            "token_type": {"type": "string", "enum": ["Bearer"]},
            "expires_in": {"type": "integer"},
            "refresh_token": {"type": "string"},
            "token_expire": {"type": "string", "format": "date-time"},
        }, "required": ["access_token", "token_type", "expires_in", "refresh_token"]});
        let view = "nets_runtime::oauth";
        document(json!({
            "paths": {
                "/o/token/": {"post": operation("oauth_token_post", "Refresh tokens (RFC 6749 §6)", TAG, view, json!({
                    "requestBody": form(refresh),
                    "security": client,
                    "responses": {
                        "200": {"description": "A new token pair; the presented one is retired",
                                "content": {"application/json": {"schema": tokens}}},
                        "400": oauth_error("A malformed request or an invalid, expired, revoked or reused refresh token"),
                        "401": oauth_error("Client authentication failed"),
                        "413": oauth_error("The body is too large"),
                    },
                }))},
                "/o/revoke_token/": {"post": operation("oauth_revoke_token_post", "Revoke a token (RFC 7009)", TAG, view, json!({
                    "requestBody": form(revoke),
                    "security": client,
                    "responses": {
                        "200": {"description": "Revoked, or unknown (RFC 7009 §2.2)"},
                        "400": oauth_error("A malformed request"),
                        "401": oauth_error("Client authentication failed"),
                    },
                }))},
            },
            "components": {"securitySchemes": {"oauthClientBasic": {"type": "http", "scheme": "basic"}}},
        }))
    }
}
