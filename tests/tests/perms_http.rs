//! Roles, permissions and projects through real HTTP: project resolution on endpoints
//! that declare a scope (403 for a non-member or an unknown project, 400 for a bad id,
//! `project_required`), `can_do` with `perm_required` (403) and `perm_optional`, `role:`
//! checks, anonymous callers, ownership with a permission, and the OpenAPI document. The
//! attacks on the scope are in `perms_scope.rs`.

mod perms_common;

use nets_runtime::build_urlpatterns;
use nets_runtime::perms::Perms;
use nets_tests::db::{TestDb, app_builder_with, test_db};
use nets_tests::{ADMIN_TOKEN, OTHER_TOKEN, TestServer, USER_TOKEN, bearer};
use perms_common::{ADA, BOB, exec, perms, seed};
use serde_json::json;

mod api {
    use super::perms_common::Note;
    use nets_runtime::prelude::*;
    use serde_json::{Value, json};

    fn place(ctx: &Ctx) -> Value {
        json!({
            "project": ctx.project().map(|p| p.id),
            "role": ctx.membership().and_then(|m| m.role.as_deref()),
            "member": ctx.membership().is_some(),
            "perm": ctx.perm(),
        })
    }

    #[request_handler(path = "projects/{project_id}/docs/", method = GET, can_do = "docs.view", perm_required, project_required)]
    async fn list_docs(project_id: i64, ctx: Ctx) -> ApiResult<Value> {
        let _ = project_id;
        Ok(place(&ctx))
    }

    #[request_handler(
        path = "articles/publish/",
        method = POST,
        can_do = ["docs.view", "docs.publish"],
        perm_required,
        project_required
    )]
    async fn publish(ctx: Ctx) -> ApiResult<Value> {
        Ok(place(&ctx))
    }

    /// No permission at all, an optional project: shows what the pipeline resolved.
    #[request_handler(path = "whereami/", methods = [GET, POST], project = "project_id")]
    async fn whereami(ctx: Ctx) -> ApiResult<Value> {
        Ok(place(&ctx))
    }

    #[request_handler(path = "reports/", method = GET, can_do = "reports.view", perm_required)]
    async fn reports() -> ApiResult<&'static str> {
        Ok("numbers")
    }

    /// Public, with a permission the handler reads: anonymous callers get `perm = false`.
    #[request_handler(path = "board/", method = GET, public, can_do = "docs.view", perm_optional)]
    async fn board(ctx: Ctx) -> ApiResult<Value> {
        Ok(place(&ctx))
    }

    #[request_handler(path = "editors/", method = GET, can_do = "role:editor", perm_required, project_required)]
    async fn editors(ctx: Ctx) -> ApiResult<Value> {
        Ok(place(&ctx))
    }

    /// Owners read their notes; `notes.read` lets anyone else read them too.
    #[request_handler(path = "notes/{id}/", method = GET, model = Note, can_do = "notes.read")]
    async fn note(note: Note) -> ApiResult<String> {
        Ok(note.body)
    }
}

async fn server(db: &TestDb, perms: &Perms) -> TestServer {
    let app = app_builder_with(db).authenticator(bearer()).install(perms.clone());
    TestServer::start(app.routes(build_urlpatterns!(self::api).expect("routes")).build().expect("app").router()).await
}

/// Seeded projects, ada an editor of Apollo with `docs.view`, notes 1 (bob's).
async fn fixture() -> (TestDb, Perms, TestServer) {
    let db = test_db().await;
    seed(&db).await;
    perms_common::create_notes(&db).await;
    exec(&db, "INSERT INTO notes (id, user_id, body) VALUES (1, 2, 'bob''s note')").await;
    let perms = perms(&db, "").await;
    perms.get_or_create_project_role_permission(1, "editor", "docs.view").await.unwrap();
    perms.add_user_to_role(ADA, Some(1), "editor").await.unwrap();
    let server = server(&db, &perms).await;
    (db, perms, server)
}

#[tokio::test]
async fn project_permissions_answer_200_403_404() {
    let (_db, _perms, server) = fixture().await;
    let get = |path: &str, token: &str| server.get(path).bearer_auth(token);

    let ok = server.send(get("/projects/1/docs/", USER_TOKEN)).await;
    ok.assert_data(json!({"project": 1, "role": "Editor", "member": true, "perm": true}));
    // A member of Gemini, without a role there: the Apollo role does not leak.
    server.send(get("/projects/2/docs/", USER_TOKEN)).await.assert_error(403, "permission denied");
    // No such project: the 403 of a non-member (ids cannot be probed); global superusers,
    // who may see every project, learn it is missing.
    server.send(get("/projects/999/docs/", USER_TOKEN)).await.assert_error(403, "permission denied");
    server.send(get("/projects/999/docs/", ADMIN_TOKEN)).await.assert_error(404, "not found");
    // bob is a project superuser of Apollo and a stranger to Gemini.
    server.send(get("/projects/1/docs/", OTHER_TOKEN)).await.data();
    server.send(get("/projects/2/docs/", OTHER_TOKEN)).await.assert_error(403, "permission denied");
    // The global superuser passes without a membership.
    let root = server.send(get("/projects/2/docs/", ADMIN_TOKEN)).await;
    root.assert_data(json!({"project": 2, "role": null, "member": false, "perm": true}));
    // Anonymous: 401 before anything else.
    assert_eq!(server.send(server.get("/projects/1/docs/")).await.status, 401);
}

#[tokio::test]
async fn bad_project_ids_are_400_not_500() {
    let (_db, _perms, server) = fixture().await;
    for (path, problem) in [
        ("/projects/abc/docs/", None),
        ("/projects/0/docs/", Some("must be a positive integer")),
        ("/projects/-3/docs/", Some("must be a positive integer")),
        ("/whereami/?project_id=1.5", None),
        ("/whereami/?project_id=1&project_id=2", None),
    ] {
        let reply = server.send(server.get(path).bearer_auth(USER_TOKEN)).await;
        assert_eq!(reply.status, 400, "{path}: {}", reply.text());
        let message = reply.json["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("invalid value for parameter 'project_id': "), "{path}: {message}");
        if let Some(problem) = problem {
            reply.assert_invalid("project_id", problem);
        }
    }
}

#[tokio::test]
async fn project_id_comes_from_the_query_the_body_or_the_path() {
    let (_db, _perms, server) = fixture().await;
    let whereami = |request: reqwest::RequestBuilder| server.send(request.bearer_auth(USER_TOKEN));

    let reply = whereami(server.get("/whereami/?project_id=2")).await;
    reply.assert_data(json!({"project": 2, "role": null, "member": true, "perm": false}));
    whereami(server.get("/whereami/"))
        .await
        .assert_data(json!({"project": null, "role": null, "member": false, "perm": false}));
    whereami(server.get("/whereami/?project_id="))
        .await
        .assert_data(json!({"project": null, "role": null, "member": false, "perm": false}));
    whereami(server.get("/whereami/?project_id=999")).await.assert_error(403, "permission denied");
    // JSON bodies as clients send them: numbers as strings, or as numbers.
    let reply = whereami(server.post_json("/whereami/", json!({"project_id": "1"}))).await;
    reply.assert_data(json!({"project": 1, "role": "Editor", "member": true, "perm": false}));
    whereami(server.post_json("/whereami/", json!({"project_id": 1}))).await.data();
    whereami(server.post("/whereami/").form(&[("project_id", "1")])).await.data();
    // A non-member is refused like a denied permission.
    let reply = server.send(server.get("/whereami/?project_id=2").bearer_auth(OTHER_TOKEN)).await;
    reply.assert_error(403, "permission denied");
}

#[tokio::test]
async fn every_can_do_must_hold_and_project_required_needs_a_project() {
    let (_db, perms, server) = fixture().await;
    let publish =
        |body: serde_json::Value| server.send(server.post_json("/articles/publish/", body).bearer_auth(USER_TOKEN));

    // docs.view holds, docs.publish does not.
    publish(json!({"project_id": "1"})).await.assert_error(403, "permission denied");
    perms.get_or_create_project_role_permission(1, "editor", "docs.publish").await.unwrap();
    publish(json!({"project_id": "1"})).await.data();

    publish(json!({})).await.assert_error(400, "project_id is required");
    publish(json!({"project_id": ""})).await.assert_error(400, "project_id is required");
    publish(json!({"project_id": "999"})).await.assert_error(403, "permission denied");
}

#[tokio::test]
async fn role_checks_use_the_membership() {
    let (_db, _perms, server) = fixture().await;
    let get = |path: &str, token: &str| server.send(server.get(path).bearer_auth(token));
    get("/editors/?project_id=1", USER_TOKEN).await.data();
    get("/editors/?project_id=2", USER_TOKEN).await.assert_error(403, "permission denied");
    get("/editors/?project_id=1", OTHER_TOKEN).await.data(); // project superuser
    get("/editors/", USER_TOKEN).await.assert_error(400, "project_id is required");
}

#[tokio::test]
async fn global_permissions_and_anonymous_callers() {
    let (_db, perms, server) = fixture().await;
    server.send(server.get("/reports/").bearer_auth(USER_TOKEN)).await.assert_error(403, "permission denied");
    perms.get_or_create_role_permission("auditor", "reports.view").await.unwrap();
    perms.add_user_to_role(ADA, None, "auditor").await.unwrap();
    server.send(server.get("/reports/").bearer_auth(USER_TOKEN)).await.assert_data(json!("numbers"));
    server.send(server.get("/reports/").bearer_auth(OTHER_TOKEN)).await.assert_error(403, "permission denied");

    // Public with `perm_optional`: anonymous callers are denied quietly (the original
    // crashed). The board has no project scope: `project_id` changes nothing.
    let anonymous = server.send(server.get("/board/?project_id=1")).await;
    anonymous.assert_data(json!({"project": null, "role": null, "member": false, "perm": false}));
    let ada = server.send(server.get("/board/?project_id=1").bearer_auth(USER_TOKEN)).await;
    ada.assert_data(json!({"project": null, "role": null, "member": false, "perm": false}));
    let root = server.send(server.get("/board/?project_id=404").bearer_auth(ADMIN_TOKEN)).await;
    root.assert_data(json!({"project": null, "role": null, "member": false, "perm": true}));
}

#[tokio::test]
async fn a_permission_lets_a_non_owner_reach_an_object() {
    let (_db, perms, server) = fixture().await;
    let note = |token: &str| server.send(server.get("/notes/1/").bearer_auth(token));
    note(OTHER_TOKEN).await.assert_data(json!("bob's note")); // the owner
    note(USER_TOKEN).await.assert_error(404, "not found"); // someone else's, existence not leaked
    perms.get_or_create_role_permission("moderator", "notes.read").await.unwrap();
    perms.add_user_to_role(ADA, None, "moderator").await.unwrap();
    note(USER_TOKEN).await.assert_data(json!("bob's note"));
    perms.remove_user_from_role(ADA, None, "moderator").await.unwrap();
    note(USER_TOKEN).await.assert_error(404, "not found");
    let _ = BOB;
}

#[tokio::test]
async fn project_scopes_without_a_checker_that_resolves_projects_do_not_build() {
    // The default checker (SuperusersOnly) resolves no project: an endpoint declaring a
    // project scope could never be served as declared, so the app refuses to start,
    // naming each such endpoint (before: the scope was silently ignored).
    let db = test_db().await;
    let app = app_builder_with(&db).authenticator(bearer()).routes(build_urlpatterns!(self::api).expect("routes"));
    let err = app.build().expect_err("the wiring is incomplete").to_string();
    for endpoint in ["list_docs", "publish", "whereami", "editors"] {
        assert!(err.contains(&format!("endpoint `{endpoint}`")), "{endpoint}: {err}");
    }
    assert!(err.contains("a permission checker that resolves projects"), "{err}");
}

#[tokio::test]
async fn openapi_shows_each_required_permission() {
    let (_db, _perms, server) = fixture().await;
    let doc = server.send(server.get("/openapi.json")).await.json;
    let op = &doc["paths"]["/projects/{project_id}/docs/"]["get"];
    assert_eq!(op["x-nets-permissions"], json!(["docs.view"]));
    assert!(op["description"].as_str().unwrap_or_default().contains("Requires permission: `docs.view`."), "{op}");
    assert!(op["responses"]["403"].is_object());
    let publish = &doc["paths"]["/articles/publish/"]["post"];
    assert_eq!(publish["x-nets-permissions"], json!(["docs.view", "docs.publish"]));
}
