//! The permission scope is declared by the endpoint, never picked by the client (issue
//! 11, item 1). Each test is an attack that worked when `project_id` was read on every
//! endpoint: a superuser of her own project (bob, of Apollo) or a plain member (ada, an
//! editor of Apollo holding `docs.view` there) adds `project_id` to a global endpoint.

mod perms_common;

use nets_runtime::build_urlpatterns;
use nets_runtime::perms::Perms;
use nets_tests::db::{TestDb, app_builder_with, test_db};
use nets_tests::{ADMIN_TOKEN, OTHER_TOKEN, TestServer, USER_TOKEN, bearer};
use perms_common::{exec, perms, seed};
use serde_json::json;

mod api {
    use super::perms_common::Note;
    use nets_runtime::prelude::*;

    /// A global report: only a global grant opens it.
    #[request_handler(path = "reports/", methods = [GET, POST], can_do = "reports.view", perm_required)]
    async fn reports() -> ApiResult<&'static str> {
        Ok("numbers")
    }

    /// A global check of a permission ada holds only in Apollo.
    #[request_handler(path = "library/", method = GET, can_do = "docs.view", perm_required)]
    async fn library() -> ApiResult<&'static str> {
        Ok("every document")
    }

    /// Owners read their notes; a global `notes.read` lets anyone else read them.
    #[request_handler(path = "notes/{id}/", method = GET, model = Note, can_do = "notes.read")]
    async fn note(note: Note) -> ApiResult<String> {
        Ok(note.body)
    }

    #[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, NetsModel)]
    #[nets(table = "papers", owner = "user_id", project = "project_id")]
    pub struct Paper {
        pub id: i64,
        pub user_id: i64,
        pub project_id: i64,
        pub title: String,
    }

    /// Project-scoped: `docs.view` in the project opens that project's papers only.
    #[request_handler(
        path = "projects/{project_id}/papers/{id}/",
        method = GET,
        model = Paper,
        can_do = "docs.view",
        project_required
    )]
    async fn paper(project_id: i64, paper: Paper) -> ApiResult<String> {
        let _ = project_id;
        Ok(paper.title)
    }

    /// Project-scoped and optional: the project comes from `team`, when sent.
    #[request_handler(path = "board/", method = GET, can_do = "docs.view", perm_required, project = "team")]
    async fn board(ctx: Ctx) -> ApiResult<Option<i64>> {
        Ok(ctx.project().map(|p| p.id))
    }
}

/// The seeded projects, ada an editor of Apollo with `docs.view`; notes 1 (bob's) and 2
/// (ada's); papers 1 (bob's, Apollo) and 2 (bob's, Gemini).
async fn fixture() -> (TestDb, Perms, TestServer) {
    let db = test_db().await;
    seed(&db).await;
    perms_common::create_notes(&db).await;
    exec(&db, "INSERT INTO notes (id, user_id, body) VALUES (1, 2, 'bob''s note'), (2, 1, 'ada''s note')").await;
    exec(
        &db,
        "CREATE TABLE papers (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, project_id BIGINT NOT NULL, \
         title VARCHAR(100) NOT NULL)",
    )
    .await;
    exec(
        &db,
        "INSERT INTO papers (id, user_id, project_id, title) VALUES (1, 2, 1, 'apollo plan'), (2, 2, 2, 'gemini plan')",
    )
    .await;
    let perms = perms(&db, "").await;
    perms.get_or_create_project_role_permission(1, "editor", "docs.view").await.unwrap();
    perms.add_user_to_role(perms_common::ADA, Some(1), "editor").await.unwrap();
    let app = app_builder_with(&db).authenticator(bearer()).install(perms.clone());
    let server =
        TestServer::start(app.routes(build_urlpatterns!(self::api).expect("routes")).build().expect("app").router())
            .await;
    (db, perms, server)
}

#[tokio::test]
async fn a_project_superuser_cannot_pass_a_global_check_with_project_id() {
    let (_db, _perms, server) = fixture().await;
    let get = |path: &str| server.send(server.get(path).bearer_auth(OTHER_TOKEN));
    get("/reports/").await.assert_error(403, "permission denied");
    get("/reports/?project_id=1").await.assert_error(403, "permission denied");
    // Nor from the body, as a number or a string.
    let post = |body| server.send(server.post_json("/reports/", body).bearer_auth(OTHER_TOKEN));
    post(json!({"project_id": 1})).await.assert_error(403, "permission denied");
    post(json!({"project_id": "1"})).await.assert_error(403, "permission denied");
    // The global superuser still passes.
    server.send(server.get("/reports/").bearer_auth(ADMIN_TOKEN)).await.assert_data(json!("numbers"));
}

#[tokio::test]
async fn a_project_member_cannot_pass_a_global_check_with_project_id() {
    let (_db, _perms, server) = fixture().await;
    let get = |path: &str| server.send(server.get(path).bearer_auth(USER_TOKEN));
    get("/library/").await.assert_error(403, "permission denied");
    get("/library/?project_id=1").await.assert_error(403, "permission denied");
}

#[tokio::test]
async fn project_id_never_opens_someone_elses_object_on_a_global_endpoint() {
    let (_db, perms, server) = fixture().await;
    let note = |path: &str, token: &str| server.send(server.get(path).bearer_auth(token));
    // bob is superuser of Apollo: ada's note stays hidden however he asks.
    note("/notes/2/", OTHER_TOKEN).await.assert_error(404, "not found");
    note("/notes/2/?project_id=1", OTHER_TOKEN).await.assert_error(404, "not found");
    note("/notes/1/?project_id=1", USER_TOKEN).await.assert_error(404, "not found");
    // Owners, and holders of the global grant, still read them.
    note("/notes/2/", USER_TOKEN).await.assert_data(json!("ada's note"));
    perms.get_or_create_role_permission("moderator", "notes.read").await.unwrap();
    perms.add_user_to_role(perms_common::ADA, None, "moderator").await.unwrap();
    note("/notes/1/", USER_TOKEN).await.assert_data(json!("bob's note"));
}

#[tokio::test]
async fn a_project_grant_opens_only_that_projects_objects() {
    let (_db, _perms, server) = fixture().await;
    let paper = |path: &str, token: &str| server.send(server.get(path).bearer_auth(token));
    // ada holds docs.view in Apollo: bob's Apollo paper opens.
    paper("/projects/1/papers/1/", USER_TOKEN).await.assert_data(json!("apollo plan"));
    // The Gemini paper asked for through Apollo, where her grant is: still hidden.
    paper("/projects/1/papers/2/", USER_TOKEN).await.assert_error(404, "not found");
    // In Gemini she has no grant: only her own papers (none here).
    paper("/projects/2/papers/2/", USER_TOKEN).await.assert_error(404, "not found");
    // bob owns both; the global superuser opens both.
    paper("/projects/1/papers/2/", OTHER_TOKEN).await.assert_data(json!("gemini plan"));
    paper("/projects/2/papers/1/", ADMIN_TOKEN).await.assert_data(json!("apollo plan"));
}

#[tokio::test]
async fn unknown_projects_and_non_members_get_the_same_answer() {
    let (_db, _perms, server) = fixture().await;
    let paper = |path: &str, token: &str| server.send(server.get(path).bearer_auth(token));
    // bob is a stranger to Gemini; project 999 does not exist: both 403, alike.
    let stranger = paper("/projects/2/papers/1/", OTHER_TOKEN).await;
    let missing = paper("/projects/999/papers/1/", OTHER_TOKEN).await;
    stranger.assert_error(403, "permission denied");
    assert_eq!((missing.status, missing.text()), (stranger.status, stranger.text()));
}

#[tokio::test]
async fn an_optional_project_scope_reads_only_its_declared_parameter() {
    let (_db, _perms, server) = fixture().await;
    let board = |path: &str, token: &str| server.send(server.get(path).bearer_auth(token));
    // Without a project the check is global: ada holds docs.view only in Apollo.
    board("/board/", USER_TOKEN).await.assert_error(403, "permission denied");
    board("/board/?project_id=1", USER_TOKEN).await.assert_error(403, "permission denied");
    board("/board/?team=1", USER_TOKEN).await.assert_data(json!(1));
    board("/board/?team=2", USER_TOKEN).await.assert_error(403, "permission denied");
    board("/board/?team=2", OTHER_TOKEN).await.assert_error(403, "permission denied");
    board("/board/?team=1", OTHER_TOKEN).await.assert_data(json!(1)); // project superuser
}

#[tokio::test]
async fn openapi_documents_the_declared_project_parameter() {
    let (_db, _perms, server) = fixture().await;
    let doc = server.send(server.get("/openapi.json")).await.json;
    let board = &doc["paths"]["/board/"]["get"];
    assert_eq!(board["x-nets-project"], json!("team"));
    let params = board["parameters"].as_array().cloned().unwrap_or_default();
    assert!(params.iter().any(|p| p["name"] == "team" && p["in"] == "query" && p["required"] == false), "{board}");
    assert!(doc["paths"]["/reports/"]["get"].get("x-nets-project").is_none());
}
