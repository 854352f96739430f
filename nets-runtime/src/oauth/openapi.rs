//! The OpenAPI operations of `POST /o/token/` and `POST /o/revoke_token/`: the generated
//! operations (`openapi = ..` on the endpoints) with form bodies, HTTP Basic client
//! authentication and RFC 6749 answers instead of nets' envelope.

use serde_json::{Value, json};
use utoipa::openapi::Components;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

/// The HTTP Basic scheme clients authenticate with (RFC 6749 §2.3.1).
const CLIENT_BASIC: &str = "oauthClientBasic";

pub(super) fn token_operation(op: &mut Operation, components: &mut Components) {
    let refresh = form_schema(
        json!({
            "grant_type": {"type": "string", "enum": ["refresh_token"]},
            "refresh_token": {"type": "string"},
        }),
        &["grant_type", "refresh_token"],
    );
    let tokens = json!({"type": "object", "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "expires_in": {"type": "integer"},
        "refresh_token": {"type": "string"},
        "token_expire": {"type": "string", "format": "date-time"},
    }, "required": ["access_token", "token_type", "expires_in", "refresh_token"]});
    let responses = json!({
        "200": {"description": "A new token pair; the presented one is retired",
                "content": {"application/json": {"schema": tokens}}},
        "400": oauth_error("A malformed request or an invalid, expired, revoked or reused refresh token"),
        "401": oauth_error("Client authentication failed"),
        "405": oauth_error("Only POST"),
        "413": oauth_error("The body is too large"),
    });
    apply(op, components, refresh, responses);
}

pub(super) fn revoke_operation(op: &mut Operation, components: &mut Components) {
    let revoke = form_schema(
        json!({
            "token": {"type": "string"},
            "token_type_hint": {"type": "string", "enum": ["access_token", "refresh_token"]},
        }),
        &["token"],
    );
    let responses = json!({
        "200": {"description": "Revoked, or unknown (RFC 7009 §2.2)"},
        "400": oauth_error("A malformed request"),
        "401": oauth_error("Client authentication failed"),
        "405": oauth_error("Only POST"),
        "413": oauth_error("The body is too large"),
    });
    apply(op, components, revoke, responses);
}

/// A form body schema: `properties` plus the client credentials.
fn form_schema(mut properties: Value, required: &[&str]) -> Value {
    if let Some(properties) = properties.as_object_mut() {
        properties.insert("client_id".into(), json!({"type": "string"}));
        properties.insert("client_secret".into(), json!({"type": "string"}));
    }
    json!({"type": "object", "properties": properties, "required": required})
}

/// The RFC 6749 §5.2 error schema, in `components/schemas`.
const OAUTH_ERROR: &str = "OAuthError";

/// An RFC 6749 §5.2 error answer.
fn oauth_error(description: &str) -> Value {
    let schema = format!("#/components/schemas/{OAUTH_ERROR}");
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": schema}}}})
}

fn oauth_error_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"error": {"type": "string", "enum": [
            "invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type",
            "invalid_scope", "server_error"]},
            "error_description": {"type": "string"}},
        "required": ["error", "error_description"],
    })
}

fn apply(op: &mut Operation, components: &mut Components, form: Value, responses: Value) {
    let body = json!({"required": true, "content": {"application/x-www-form-urlencoded": {"schema": form}}});
    // Both values are literals above, so they always read; a failure would leave the
    // generated operation, never break the document.
    match (
        serde_json::from_value(body),
        serde_json::from_value(responses),
        serde_json::from_value(oauth_error_schema()),
    ) {
        (Ok(body), Ok(responses), Ok(error)) => {
            op.request_body = Some(body);
            op.responses = responses;
            components.schemas.insert(OAUTH_ERROR.to_owned(), error);
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => tracing::error!(error = %e, "OAuth operation schema"),
    }
    // HTTP Basic, or the credentials in the body (no scheme to name).
    let basic = utoipa::openapi::security::SecurityRequirement::new::<_, _, &str>(CLIENT_BASIC, []);
    op.security = Some(vec![basic, utoipa::openapi::security::SecurityRequirement::default()]);
    components.add_security_scheme(CLIENT_BASIC, SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)));
}
