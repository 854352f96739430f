//! The OpenAPI operations of the account endpoints, for `/openapi.json`.

use serde_json::{Value, json};
use utoipa::openapi::OpenApi;

use super::Accounts;
use crate::openapi::fragment::{bearer, body, document, error, ok, operation};
use crate::users::Identifier;

const TAG: &str = "nets_core_auth";

impl Accounts {
    /// The account endpoints as OpenAPI operations (their bodies, answers, errors and
    /// which need a bearer token), with this app's identifier field and updatable
    /// fields. Add them to `/openapi.json` with
    /// [`AppBuilder::document`](crate::AppBuilder::document):
    ///
    /// ```no_run
    /// # async fn demo(settings: nets_runtime::Settings, accounts: nets_runtime::accounts::Accounts) {
    /// let app = nets_runtime::App::builder(settings).document(accounts.openapi()).build();
    /// # }
    /// ```
    pub fn openapi(&self) -> OpenApi {
        let users = &self.0.users;
        let id = users.identifier().column();
        let view = |name: &str| format!("nets_runtime::accounts::{name}");
        let op = |name: &str, summary: &str, fields: Value| {
            operation(&format!("{name}_post"), summary, TAG, &view(name), fields)
        };
        let user =
            json!({"type": "object", "description": "The user's JSON-visible fields (NETS_CORE_USER_JSON_FIELDS)"});

        let mut login = json!({"type": "object", "properties": {
            id: {"type": "string", "maxLength": 254},
            "device": {
                "description": "The device, also accepted as a JSON-encoded string",
                "type": ["object", "string"],
                "properties": device_properties(),
            },
        }, "required": [id]});
        if users.identifier() == Identifier::Username {
            login["properties"]["email"] =
                json!({"type": "string", "format": "email", "description": "The address of a new account"});
        }
        let codes = json!({"type": "object", "properties": {
            id: {"type": "string"},
            "code": {"type": "string", "description": "Digits, leading zeros kept"},
            "client_id": {"type": "string"},
            "client_secret": {"type": "string"},
            "device_uuid": {"type": "string", "format": "uuid", "description": "Required when the code is bound to a device"},
        }, "required": [id, "code", "client_id", "client_secret"]});
        let tokens = json!({"type": "object", "properties": {
            "access_token": {"type": "string"},
            "refresh_token": {"type": "string"},
            "token_expire": {"type": "string", "format": "date-time"},
            "user": user,
        }, "required": ["access_token", "refresh_token", "token_expire", "user"]});
        let fields = json!({"description": "Field names: a list, a JSON-encoded list or comma-separated",
                            "type": ["array", "string"], "items": {"type": "string"}});
        let mut update = json!({"type": "object", "properties": {}, "additionalProperties": false});
        for (name, schema) in users.updatable_schemas() {
            update["properties"][name] = schema;
        }
        let mut upload = update.clone();
        for name in users.file_fields() {
            upload["properties"][name] = json!({"type": "string", "contentMediaType": "application/octet-stream"});
        }
        let delete = json!({"type": "object", "properties": {
            "sure": {"type": ["boolean", "string"]},
            "code": {"type": "string"},
            id: {"type": "string", "description": "Without a bearer token: whose account"},
            "device_uuid": {"type": "string", "format": "uuid"},
        }, "required": ["sure", "code"]});
        let limited = error("Too many requests (Retry-After says when to retry)");
        let refused = error("Authentication required or the token is invalid");
        let profile = operation(
            "getProfile_get",
            "The caller's profile",
            TAG,
            &view("profile"),
            json!({
                "parameters": [{"name": "fields", "in": "query", "required": false, "schema": fields}],
                "security": bearer(),
                "responses": {"200": ok("The profile", user.clone()), "400": error("Unknown field"), "401": refused},
            }),
        );
        let page = json!({"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}});
        document(json!({"paths": {
            "/login/": {"post": op("login", "Send a one-time code by e-mail", json!({
                "requestBody": body(login),
                "responses": {
                    "200": {"description": "Always the same answer, whether or not the account exists",
                            "content": {"application/json": {"schema": {
                                "type": "object",
                                "properties": {"res": {"type": "integer", "enum": [1]}, "data": {"type": "string", "enum": ["CODE SENT"]},
                                               "extra": {"type": "object", "properties": {
                                                   "device_uuid": {"type": ["string", "null"], "format": "uuid"}}}},
                                "required": ["res", "data", "extra"]}}}},
                    "400": error("Missing or invalid identifier or device"),
                    "429": limited,
                },
            }))},
            "/authenticate/": {"post": op("authenticate", "Exchange a code for tokens", json!({
                "requestBody": body(codes),
                "responses": {"200": ok("Tokens and the user", tokens),
                              "400": error("Invalid code for this user and device, or bad client credentials"),
                              "429": limited},
            }))},
            "/logout/": {"post": op("logout", "Revoke this login; delete a device", json!({
                "requestBody": body(json!({"type": "object", "properties": {
                    "device_uuid": {"type": "string", "format": "uuid"}}})),
                "security": bearer(),
                "responses": {"200": ok("Logged out", json!({"type": "string", "enum": ["Logged out successfully"]})),
                              "400": error("Malformed device_uuid"), "401": refused},
            }))},
            "/getProfile/": {"get": profile, "post": operation("getProfile_post", "The caller's profile", TAG, &view("profile"), json!({
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"fields": fields}}}}},
                "security": bearer(),
                "responses": {"200": ok("The profile", user.clone()), "400": error("Unknown field"), "401": refused},
            }))},
            "/update/": {"post": op("update", "Update the caller's updatable fields and files", json!({
                "requestBody": {"required": true, "content": {
                    "application/json": {"schema": update},
                    "application/x-www-form-urlencoded": {"schema": update},
                    "multipart/form-data": {"schema": upload},
                }},
                "security": bearer(),
                "responses": {"200": ok("The updated profile", user),
                              "400": error("A prohibited, unknown or invalid field, or a refused file"),
                              "401": refused, "413": error("The body is too large")},
            }))},
            "/requestDelete/": {"get": operation("requestDelete_get", "The account deletion page", TAG, &view("request_page"),
                                                 json!({"responses": {"200": page}}))},
            "/delete/": {"post": op("delete", "Delete the account with a one-time code", json!({
                "requestBody": body(delete),
                "security": [{}, {crate::openapi::BEARER: []}],
                "responses": {"200": ok("Deleted", json!({"type": "string", "enum": ["Account deleted successfully"]})),
                              "400": error("Are you sure? / Invalid code"), "401": error("The token is invalid"),
                              "429": limited},
            }))},
        }}))
    }
}

/// The keys of a `/login/` device object.
fn device_properties() -> Value {
    let text = json!({"type": "string", "maxLength": 4096});
    let mut properties = json!({"uuid": {"type": "string", "format": "uuid", "description": "A device of this user"}});
    for key in ["name", "os", "os_version", "app_version", "device_type", "firebase_token", "device_id"] {
        properties[key] = text.clone();
    }
    properties
}
