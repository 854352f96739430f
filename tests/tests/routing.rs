//! Routing and access: method guards and `Allow`, HEAD, trailing slashes,
//! authentication (401), permissions (403), model loading with ownership (400/404),
//! the route registry, module filters and CORS.

use nets_runtime::build_urlpatterns;
use nets_runtime::routing::RoutingError;
use nets_tests::{ADMIN_TOKEN, OTHER_TOKEN, Reply, TestServer, USER_TOKEN, app, settings};
use reqwest::Method;
use serde_json::{Value, json};

mod api {
    use nets_runtime::prelude::*;
    use serde::Serialize;
    use serde_json::{Value, json};

    #[request_handler(path = "both/", methods = [POST, GET], public)]
    pub async fn both() -> ApiResult<&'static str> {
        Ok("both")
    }

    #[request_handler(path = "only-post/", method = POST, public)]
    pub async fn only_post() -> ApiResult<&'static str> {
        Ok("posted")
    }

    #[request_handler(path = "put-delete/", methods = ["delete", "put"], public)]
    pub async fn put_delete() -> ApiResult<&'static str> {
        Ok("changed")
    }

    #[request_handler(path = "any/", public)]
    pub async fn any() -> ApiResult<&'static str> {
        Ok("any")
    }

    /// Two handlers on one path, one per method.
    #[request_handler(path = "shared/", method = GET, public)]
    pub async fn shared_read() -> ApiResult<&'static str> {
        Ok("read")
    }

    #[request_handler(path = "shared/", method = POST, public)]
    pub async fn shared_write() -> ApiResult<&'static str> {
        Ok("write")
    }

    #[request_handler(path = "slash/", method = GET, public)]
    pub async fn with_slash() -> ApiResult<&'static str> {
        Ok("declared with a slash")
    }

    #[request_handler(path = "noslash", method = GET, public)]
    pub async fn without_slash() -> ApiResult<&'static str> {
        Ok("declared without a slash")
    }

    #[request_handler(path = "items/{id}/", method = GET, public)]
    pub async fn item(id: i64) -> ApiResult<i64> {
        Ok(id)
    }

    fn describe(ctx: &Ctx) -> Value {
        let user = ctx.user();
        json!({
            "user": user.map(|u| u.id),
            "identifier": user.map(|u| u.identifier.clone()),
            "superuser": user.map(|u| u.is_superuser),
            "perm": ctx.perm(),
        })
    }

    #[request_handler(path = "me/", methods = [GET, POST])]
    pub async fn me(ctx: Ctx) -> ApiResult<Value> {
        Ok(describe(&ctx))
    }

    #[request_handler(path = "open/", method = GET, public)]
    pub async fn open(ctx: Ctx) -> ApiResult<Value> {
        Ok(describe(&ctx))
    }

    #[request_handler(path = "purge/", method = POST, can_do = "notes.purge", perm_required)]
    pub async fn purge(ctx: Ctx) -> ApiResult<Value> {
        Ok(describe(&ctx))
    }

    #[request_handler(path = "peek/", method = GET, can_do = "notes.peek", perm_optional)]
    pub async fn peek(ctx: Ctx) -> ApiResult<Value> {
        Ok(describe(&ctx))
    }

    #[request_handler(path = "strict/", method = GET, can_do = ["notes.peek", "notes.purge"], perm_required)]
    pub async fn strict(ctx: Ctx) -> ApiResult<Value> {
        Ok(describe(&ctx))
    }

    /// A document: 1 belongs to user 1, 2 to user 2, 3 to nobody.
    #[derive(Debug, Clone, Serialize)]
    pub struct Doc {
        pub id: i64,
        pub slug: &'static str,
        pub owner: Option<i64>,
    }

    const DOCS: [Doc; 3] = [
        Doc { id: 1, slug: "ada-notes", owner: Some(1) },
        Doc { id: 2, slug: "bob-notes", owner: Some(2) },
        Doc { id: 3, slug: "handbook", owner: None },
    ];

    impl NetsModel for Doc {
        const TABLE: &'static str = "docs";

        fn owner_id(&self) -> Option<i64> {
            self.owner
        }

        async fn find_by_index(_ctx: &Ctx, field: &str, value: &str) -> Result<Option<Self>, ApiError> {
            if value == "explode" {
                return Err(ApiError::internal("lookup failed"));
            }
            Ok(DOCS.iter().find(|d| if field == "slug" { d.slug == value } else { d.id.to_string() == value }).cloned())
        }
    }
    nets_runtime::model_argument!(Doc);

    #[request_handler(path = "documents/{id}/", method = GET, model = Doc)]
    pub async fn show_doc(doc: Doc) -> ApiResult<Doc> {
        Ok(doc)
    }

    #[request_handler(path = "documents-by-slug/{slug}/", method = GET, model = Doc, index_field = "slug")]
    pub async fn show_doc_by_slug(doc: Doc) -> ApiResult<Doc> {
        Ok(doc)
    }

    #[request_handler(path = "doc-lookup/", methods = [GET, POST], model = Doc)]
    pub async fn lookup_doc(doc: Doc, ctx: Ctx) -> ApiResult<Value> {
        Ok(json!({"doc": doc, "perm": ctx.perm()}))
    }

    #[request_handler(path = "public-docs/{id}/", method = GET, model = Doc, public, public_objects)]
    pub async fn show_public_doc(doc: Doc) -> ApiResult<Doc> {
        Ok(doc)
    }

    #[request_handler(path = "audit-docs/{id}/", method = GET, model = Doc, can_do = "docs.audit")]
    pub async fn audit_doc(doc: Doc) -> ApiResult<Doc> {
        Ok(doc)
    }
}

/// Endpoints outside `api`, to check module filters.
mod api_extra {
    use nets_runtime::prelude::*;

    #[request_handler(path = "extra/", method = GET, public)]
    pub async fn extra() -> ApiResult<&'static str> {
        Ok("extra")
    }
}

/// An application route under `/docs/`, where nets serves its API page.
mod docs_clash {
    use nets_runtime::prelude::*;

    #[request_handler(path = "docs/{id}/", method = GET, public)]
    pub async fn user_doc(id: i64) -> ApiResult<i64> {
        Ok(id)
    }
}

async fn server() -> TestServer {
    TestServer::start(
        app(Default::default()).routes(build_urlpatterns!(crate::api).expect("routes")).build().expect("app").router(),
    )
    .await
}

async fn send(s: &TestServer, method: Method, path: &str) -> Reply {
    s.send(s.request(method, path)).await
}

async fn as_user(s: &TestServer, token: &str, method: Method, path: &str) -> Reply {
    s.send(s.request(method, path).bearer_auth(token)).await
}

#[track_caller]
fn assert_405(reply: &Reply, allow: &str) {
    reply.assert_exact(405, json!({"res": 0, "message": "method not allowed", "data": null}));
    assert_eq!(reply.header("allow"), Some(allow));
}

#[tokio::test]
async fn undeclared_methods_are_a_405_with_allow_in_declaration_order() {
    let s = server().await;
    for method in [Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS] {
        assert_405(&send(&s, method, "/both/").await, "POST, GET, HEAD");
    }
    assert_405(&send(&s, Method::GET, "/only-post/").await, "POST");
    let head = send(&s, Method::HEAD, "/only-post/").await;
    assert_eq!((head.status, head.header("allow"), head.bytes.len()), (405, Some("POST"), 0));
    assert_405(&send(&s, Method::POST, "/put-delete/").await, "DELETE, PUT");
    assert_405(&send(&s, Method::from_bytes(b"PURGE").expect("method"), "/both/").await, "POST, GET, HEAD");
    send(&s, Method::DELETE, "/put-delete/").await.assert_data(json!("changed"));
    send(&s, Method::PUT, "/put-delete/").await.assert_data(json!("changed"));
}

#[tokio::test]
async fn the_method_guard_runs_before_authentication() {
    let s = server().await;
    assert_405(&send(&s, Method::DELETE, "/me/").await, "GET, POST, HEAD");
}

#[tokio::test]
async fn head_is_answered_wherever_get_is() {
    let s = server().await;
    let reply = send(&s, Method::HEAD, "/both/").await;
    assert_eq!(reply.status, 200);
    assert!(reply.bytes.is_empty(), "HEAD has no body");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    send(&s, Method::GET, "/both/").await.assert_data(json!("both"));
    send(&s, Method::POST, "/both/").await.assert_data(json!("both"));
}

#[tokio::test]
async fn an_endpoint_without_methods_accepts_all_seven() {
    let s = server().await;
    for method in [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS] {
        send(&s, method, "/any/").await.assert_data(json!("any"));
    }
    let head = send(&s, Method::HEAD, "/any/").await;
    assert_eq!((head.status, head.bytes.len()), (200, 0));
}

#[tokio::test]
async fn handlers_sharing_a_path_split_it_by_method() {
    let s = server().await;
    send(&s, Method::GET, "/shared/").await.assert_data(json!("read"));
    send(&s, Method::POST, "/shared/").await.assert_data(json!("write"));
    send(&s, Method::POST, "/shared").await.assert_data(json!("write"));
    assert_405(&send(&s, Method::PUT, "/shared/").await, "GET, POST, HEAD");
}

#[tokio::test]
async fn paths_answer_with_and_without_the_trailing_slash() {
    let s = server().await;
    for path in ["/slash/", "/slash"] {
        send(&s, Method::GET, path).await.assert_data(json!("declared with a slash"));
    }
    for path in ["/noslash", "/noslash/"] {
        send(&s, Method::GET, path).await.assert_data(json!("declared without a slash"));
    }
    send(&s, Method::GET, "/items/5").await.assert_data(json!(5));
    send(&s, Method::GET, "/items/5/").await.assert_data(json!(5));
    // Only one slash is optional.
    send(&s, Method::GET, "/slash//").await.assert_error(404, "not found");
    // 405 is answered on both forms too.
    assert_405(&send(&s, Method::POST, "/slash").await, "GET, HEAD");
}

#[track_caller]
fn assert_401(reply: &Reply, challenge: &str) {
    reply.assert_exact(401, json!({"res": 0, "message": "authentication required", "data": null}));
    assert_eq!(reply.header("www-authenticate"), Some(challenge));
}

#[tokio::test]
async fn private_endpoints_need_a_user() {
    let s = server().await;
    assert_401(&send(&s, Method::GET, "/me/").await, "Bearer");
    assert_401(&send(&s, Method::POST, "/me/").await, "Bearer");
    // Credentials in another scheme are no credentials for a bearer authenticator.
    assert_401(&s.send(s.get("/me/").header("authorization", "Basic YWRhOnB3")).await, "Bearer");
    assert_401(&s.send(s.get("/me/").header("authorization", "Bearer ")).await, "Bearer");
    // A token in the query string is not read (RFC 6750 §2.1: header only).
    assert_401(&send(&s, Method::GET, &format!("/me/?access_token={USER_TOKEN}")).await, "Bearer");
}

#[tokio::test]
async fn a_wrong_token_is_an_invalid_token_challenge() {
    let s = server().await;
    assert_401(&as_user(&s, "forged", Method::GET, "/me/").await, "Bearer error=\"invalid_token\"");
    let head = s.send(s.request(Method::HEAD, "/me/").bearer_auth("forged")).await;
    assert_eq!((head.status, head.header("www-authenticate")), (401, Some("Bearer error=\"invalid_token\"")));
}

#[tokio::test]
async fn a_valid_token_reaches_the_handler_with_its_user() {
    let s = server().await;
    as_user(&s, USER_TOKEN, Method::GET, "/me/")
        .await
        .assert_data(json!({"user": 1, "identifier": "ada@example.com", "superuser": false, "perm": false}));
    let lower_case_scheme = s.send(s.get("/me/").header("authorization", format!("bearer {ADMIN_TOKEN}"))).await;
    lower_case_scheme
        .assert_data(json!({"user": 9, "identifier": "root@example.com", "superuser": true, "perm": false}));
}

#[tokio::test]
async fn public_endpoints_ignore_missing_and_bad_tokens() {
    let s = server().await;
    let anonymous = json!({"user": null, "identifier": null, "superuser": null, "perm": true});
    send(&s, Method::GET, "/open/").await.assert_data(anonymous.clone());
    as_user(&s, "forged", Method::GET, "/open/").await.assert_data(anonymous);
    // A good token on a public endpoint still identifies the caller.
    as_user(&s, USER_TOKEN, Method::GET, "/open/")
        .await
        .assert_data(json!({"user": 1, "identifier": "ada@example.com", "superuser": false, "perm": true}));
}

#[tokio::test]
async fn perm_required_denies_users_without_the_permission() {
    let s = server().await;
    as_user(&s, USER_TOKEN, Method::POST, "/purge/").await.assert_error(403, "permission denied");
    as_user(&s, USER_TOKEN, Method::GET, "/strict/").await.assert_error(403, "permission denied");
    as_user(&s, ADMIN_TOKEN, Method::POST, "/purge/")
        .await
        .assert_data(json!({"user": 9, "identifier": "root@example.com", "superuser": true, "perm": true}));
    as_user(&s, ADMIN_TOKEN, Method::GET, "/strict/").await.data();
    // Anonymous callers get 401 before any permission check.
    assert_401(&send(&s, Method::POST, "/purge/").await, "Bearer");
}

#[tokio::test]
async fn without_perm_required_the_handler_sees_the_permission_outcome() {
    let s = server().await;
    as_user(&s, USER_TOKEN, Method::GET, "/peek/")
        .await
        .assert_data(json!({"user": 1, "identifier": "ada@example.com", "superuser": false, "perm": false}));
    as_user(&s, ADMIN_TOKEN, Method::GET, "/peek/")
        .await
        .assert_data(json!({"user": 9, "identifier": "root@example.com", "superuser": true, "perm": true}));
}

fn doc(id: i64) -> Value {
    match id {
        1 => json!({"id": 1, "slug": "ada-notes", "owner": 1}),
        2 => json!({"id": 2, "slug": "bob-notes", "owner": 2}),
        _ => json!({"id": 3, "slug": "handbook", "owner": null}),
    }
}

#[tokio::test]
async fn a_model_is_loaded_for_its_owner() {
    let s = server().await;
    as_user(&s, USER_TOKEN, Method::GET, "/documents/1/").await.assert_data(doc(1));
    as_user(&s, OTHER_TOKEN, Method::GET, "/documents/2/").await.assert_data(doc(2));
    as_user(&s, USER_TOKEN, Method::GET, "/documents-by-slug/ada-notes/").await.assert_data(doc(1));
    // Objects without an owner are visible to any authenticated user.
    as_user(&s, OTHER_TOKEN, Method::GET, "/documents/3/").await.assert_data(doc(3));
}

#[tokio::test]
async fn someone_elses_object_is_a_404_like_a_missing_one() {
    let s = server().await;
    as_user(&s, USER_TOKEN, Method::GET, "/documents/2/").await.assert_error(404, "not found");
    as_user(&s, OTHER_TOKEN, Method::GET, "/documents-by-slug/ada-notes/").await.assert_error(404, "not found");
    as_user(&s, USER_TOKEN, Method::GET, "/documents/99/").await.assert_error(404, "not found");
    as_user(&s, USER_TOKEN, Method::GET, "/documents/abc/").await.assert_error(404, "not found");
    // Superusers too: without `can_do`, ownership is the only rule.
    as_user(&s, ADMIN_TOKEN, Method::GET, "/documents/1/").await.assert_error(404, "not found");
    // Anonymous: 401 before any lookup.
    assert_401(&send(&s, Method::GET, "/documents/1/").await, "Bearer");
}

#[tokio::test]
async fn a_passed_permission_check_lifts_the_ownership_rule() {
    let s = server().await;
    as_user(&s, ADMIN_TOKEN, Method::GET, "/audit-docs/1/").await.assert_data(doc(1));
    as_user(&s, USER_TOKEN, Method::GET, "/audit-docs/1/").await.assert_data(doc(1));
    as_user(&s, USER_TOKEN, Method::GET, "/audit-docs/2/").await.assert_error(404, "not found");
}

#[tokio::test]
async fn public_model_endpoints_skip_the_ownership_check() {
    let s = server().await;
    send(&s, Method::GET, "/public-docs/2/").await.assert_data(doc(2));
    as_user(&s, USER_TOKEN, Method::GET, "/public-docs/2/").await.assert_data(doc(2));
    send(&s, Method::GET, "/public-docs/7/").await.assert_error(404, "not found");
}

#[tokio::test]
async fn a_missing_index_value_is_a_400_naming_the_field() {
    let s = server().await;
    let missing =
        |field: &str| (format!("Missing params: {field}"), json!({ field: ["required to look up the object"] }));
    let (message, errors) = missing("id");
    for request in [
        s.post("/doc-lookup/").bearer_auth(USER_TOKEN),
        s.post("/doc-lookup/").bearer_auth(USER_TOKEN).json(&json!({"id": ""})),
        s.post("/doc-lookup/").bearer_auth(USER_TOKEN).json(&json!({"id": null})),
        s.post("/doc-lookup/").bearer_auth(USER_TOKEN).json(&json!({"id": [1]})),
        s.get("/doc-lookup/?id=%20").bearer_auth(USER_TOKEN),
    ] {
        s.send(request).await.assert_field_errors(&message, errors.clone());
    }
}

#[tokio::test]
async fn the_index_value_comes_from_any_source_and_may_be_a_select_object() {
    let s = server().await;
    let found = json!({"doc": doc(1), "perm": false});
    for request in [
        s.post("/doc-lookup/").bearer_auth(USER_TOKEN).json(&json!({"id": 1})),
        s.post("/doc-lookup/").bearer_auth(USER_TOKEN).json(&json!({"id": " 1 "})),
        s.post("/doc-lookup/").bearer_auth(USER_TOKEN).json(&json!({"id": {"value": 1, "label": "Ada's notes"}})),
        s.post("/doc-lookup/").bearer_auth(USER_TOKEN).form(&[("id", "1")]),
        s.post("/doc-lookup/?id=1").bearer_auth(USER_TOKEN),
        s.get("/doc-lookup/?id=1").bearer_auth(USER_TOKEN),
    ] {
        s.send(request).await.assert_data(found.clone());
    }
}

#[tokio::test]
async fn a_failing_model_lookup_is_a_500() {
    let s = server().await;
    let reply = as_user(&s, USER_TOKEN, Method::GET, "/documents/explode/").await;
    let id = reply.header("x-request-id").unwrap_or_default().to_owned();
    reply.assert_exact(500, json!({"res": 0, "message": "internal server error", "data": null, "request_id": id}));
}

#[tokio::test]
async fn the_route_registry_lists_every_endpoint_in_source_order() {
    let routes = nets_runtime::route_registry();
    let names: Vec<&str> = routes.iter().map(|r| r.name).collect();
    let position = |name: &str| names.iter().position(|n| *n == name).unwrap_or_else(|| panic!("{name} listed"));
    assert!(position("both") < position("only_post") && position("only_post") < position("extra"));
    // This binary's 21 endpoints, and the account, OAuth, push, realtime and social modules', which nets declares with
    // `#[request_handler]` like any app (served once the module is installed).
    let own: Vec<&str> = routes.iter().filter(|r| !r.module.starts_with("nets_runtime::")).map(|r| r.name).collect();
    assert_eq!(own.len(), 21, "{own:?}");
    let builtin: Vec<(&str, &str)> =
        routes.iter().filter(|r| r.module.starts_with("nets_runtime::")).map(|r| (r.path.as_str(), r.name)).collect();
    assert_eq!(
        builtin,
        [
            ("/login/", "login"),
            ("/authenticate/", "authenticate"),
            ("/logout/", "logout"),
            ("/getProfile/", "getProfile"),
            ("/update/", "update"),
            ("/requestDelete/", "requestDelete"),
            ("/delete/", "delete"),
            ("/o/token/", "oauth_token"),
            ("/o/revoke_token/", "oauth_revoke_token"),
            ("/push/token/", "push_register_token"),
            ("/push/notifications/", "push_notifications"),
            ("/push/notifications/read/", "push_mark_read"),
            ("/ws/ticket/", "ws_ticket"),
            ("/loginWithGoogle/", "loginWithGoogle"),
            ("/loginWithApple/", "loginWithApple"),
            ("/loginWithFacebook/", "loginWithFacebook"),
            ("/loginWithMicrosoft/", "loginWithMicrosoft"),
            ("/loginWithGithub/", "loginWithGithub"),
            ("/loginWithGoogleSocial/", "loginWithGoogleSocial"),
            ("/linkSocial/", "linkSocial"),
            ("/unlinkSocial/", "unlinkSocial"),
        ]
    );

    let both = &routes[position("both")];
    assert_eq!(
        (both.path.as_str(), both.methods.clone(), both.module, both.view_name, both.public, both.can_do),
        ("/both/", vec!["POST", "GET"], "routing::api", "both", true, &[][..])
    );
    let source = include_str!("routing.rs");
    assert!(both.file.ends_with("tests/routing.rs"), "{}", both.file);
    let line = source.lines().nth(both.line as usize - 1).unwrap_or_default();
    assert!(line.contains("request_handler(path = \"both/\""), "line {} is {line:?}", both.line);

    let any = &routes[position("any")];
    assert!(any.methods.is_empty(), "no declared methods means every method");
    let noslash = &routes[position("without_slash")];
    assert_eq!(noslash.path, "/noslash");
    let purge = &routes[position("purge")];
    assert_eq!((purge.public, purge.can_do), (false, &["notes.purge"][..]));
    let extra = &routes[position("extra")];
    assert_eq!(extra.module, "routing::api_extra");
}

#[tokio::test]
async fn module_filters_select_the_routes_served() {
    let only_extra = app(Default::default())
        .routes(build_urlpatterns!(self::api_extra).expect("routes"))
        .build()
        .expect("app")
        .router();
    let s = TestServer::start(only_extra).await;
    send(&s, Method::GET, "/extra/").await.assert_data(json!("extra"));
    send(&s, Method::GET, "/both/").await.assert_error(404, "not found");

    // `crate::api` does not include `crate::api_extra`, although the name starts the same.
    let s = server().await;
    send(&s, Method::GET, "/extra/").await.assert_error(404, "not found");
    send(&s, Method::GET, "/both/").await.assert_data(json!("both"));

    let several = app(Default::default())
        .routes(build_urlpatterns!(crate::api, crate::api_extra).expect("routes"))
        .build()
        .expect("app")
        .router();
    let s = TestServer::start(several).await;
    send(&s, Method::GET, "/extra/").await.assert_data(json!("extra"));
    send(&s, Method::GET, "/both/").await.assert_data(json!("both"));

    // Every endpoint of the binary is checked together: `docs_clash` claims a reserved path.
    let err = build_urlpatterns!().expect_err("docs_clash is in this binary");
    assert!(matches!(err, RoutingError::Reserved { .. }), "{err}");
}

async fn cors_server(toml: &str) -> TestServer {
    TestServer::start(
        app(settings(toml)).routes(build_urlpatterns!(crate::api).expect("routes")).build().expect("app").router(),
    )
    .await
}

fn preflight(s: &TestServer, path: &str, origin: &str) -> reqwest::RequestBuilder {
    s.request(Method::OPTIONS, path)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type")
}

#[tokio::test]
async fn cors_preflights_are_answered_for_allowed_origins() {
    let s = cors_server("CORS_ALLOWED_ORIGINS = ['https://app.example']").await;
    let reply = s.send(preflight(&s, "/purge/", "https://app.example")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("access-control-allow-origin"), Some("https://app.example"));
    let methods = reply.header("access-control-allow-methods").unwrap_or_default().to_ascii_uppercase();
    assert!(methods.contains("POST"), "{methods}");
    let headers = reply.header("access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    assert!(headers.contains("authorization") && headers.contains("content-type"), "{headers}");
    assert_eq!(reply.header("access-control-allow-credentials"), None);

    // A real request carries the origin and exposes the request id, errors included.
    let reply = s.send(s.post("/purge/").header("origin", "https://app.example")).await;
    assert_401(&reply, "Bearer");
    assert_eq!(reply.header("access-control-allow-origin"), Some("https://app.example"));
    let exposed = reply.header("access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");
}

#[tokio::test]
async fn cors_ignores_other_origins() {
    let s = cors_server("CORS_ALLOWED_ORIGINS = ['https://app.example']").await;
    let reply = s.send(preflight(&s, "/purge/", "https://evil.example")).await;
    assert_eq!(reply.header("access-control-allow-origin"), None);
    let reply = s.send(s.get("/both/").header("origin", "https://evil.example")).await;
    reply.assert_data(json!("both"));
    assert_eq!(reply.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn cors_credentials_are_allowed_only_when_configured() {
    let s = cors_server("CORS_ALLOWED_ORIGINS = ['https://app.example']\nCORS_ALLOW_CREDENTIALS = true").await;
    let reply = s.send(preflight(&s, "/purge/", "https://app.example")).await;
    assert_eq!(reply.header("access-control-allow-credentials"), Some("true"));
    let s = cors_server("CORS_ALLOW_ALL_ORIGINS = true").await;
    let reply = s.send(preflight(&s, "/purge/", "https://anyone.example")).await;
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(reply.header("access-control-allow-credentials"), None);
}

#[tokio::test]
async fn without_cors_settings_options_goes_to_the_route() {
    let s = server().await;
    let reply = s.send(preflight(&s, "/both/", "https://app.example")).await;
    assert_405(&reply, "POST, GET, HEAD");
    assert_eq!(reply.header("access-control-allow-origin"), None);
}

#[test]
fn an_app_route_under_docs_is_a_startup_error() {
    let err = build_urlpatterns!(crate::docs_clash).expect_err("/docs/ is nets' own");
    assert!(matches!(&err, RoutingError::Reserved { builtin: "API documentation page", .. }), "{err}");
    assert!(err.to_string().contains(file!()), "the error names the declaration: {err}");
}
