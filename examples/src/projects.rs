//! Multi-project roles: an example the original library promised and never shipped.
//!
//! Projects and memberships are this application's own tables (`projects`,
//! `project_members`), declared to nets with `NETS_CORE_PROJECT_MODEL` and
//! `NETS_CORE_PROJECT_MEMBER_MODEL`. Each project gets two roles, `editor`
//! (`documents.view`, `documents.edit`) and `viewer` (`documents.view`); whoever creates a
//! project is its superuser member. Endpoints declare that they act in a project with
//! `project_required` (the project comes from `{project_id}`; an endpoint without it checks
//! its permissions globally, whatever `project_id` a client sends) and what they need with
//! `can_do`:
//!
//! | endpoint | needs |
//! |---|---|
//! | `POST /projects/` | a signed-in user |
//! | `GET /projects/{project_id}/` | membership (shows the caller's membership) |
//! | `POST /projects/{project_id}/members/` | `projects.manage_members` (project superusers) |
//! | `DELETE /projects/{project_id}/members/{user_id}/` | `projects.manage_members` |
//! | `GET /projects/{project_id}/documents/` | `documents.view` |
//! | `POST /projects/{project_id}/documents/` | `documents.edit` |
//! | `GET /projects/{project_id}/editors-lounge/` | `role:editor` |
//!
//! A missing permission is a 403, and so is a project the caller is not a member of,
//! whether or not it exists (project ids cannot be probed).

use nets_runtime::auth::{AuthUser, StaticBearer};
use nets_runtime::db::Db;
use nets_runtime::perms::Perms;
use nets_runtime::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};

/// Bearer tokens of the example's users: ada (1), bob (2), cy (3).
pub const TOKENS: [(&str, i64, &str); 3] =
    [("ada-token", 1, "ada@example.com"), ("bob-token", 2, "bob@example.com"), ("cy-token", 3, "cy@example.com")];

/// The roles every project gets, with their permissions.
const ROLES: [(&str, &[&str]); 2] =
    [("editor", &["documents.view", "documents.edit"]), ("viewer", &["documents.view"])];

/// The application's tables and users (`examples/migrations/projects/`), applied after
/// nets' own migrations.
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/projects");

/// The settings this example needs on top of `base`.
pub fn settings(mut base: Settings) -> Settings {
    base.project_model = Some("projects".into());
    base.project_member_model = Some("project_members".into());
    base
}

/// Migrates `db`: nets' tables, then the example's (SQLite; idempotent).
pub async fn prepare(db: &Db) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let Db::Sqlite(_) = db else { return Err("the projects example runs on SQLite".into()) };
    db.migrate().await?;
    db.migrate_app(&MIGRATIONS).await?;
    Ok(())
}

/// The example's users, by bearer token.
fn bearer() -> StaticBearer {
    TOKENS.iter().fold(StaticBearer::new(), |auth, (token, id, email)| auth.token(*token, AuthUser::new(*id, *email)))
}

/// The example's own part of an app [`Stack`](nets_runtime::stack::Stack) assembled:
/// its users and endpoints (the stack installed permissions over its tables).
pub async fn customise(app: AppBuilder) -> Result<AppBuilder, nets_runtime::cli::BoxError> {
    Ok(app.authenticator(bearer()).routes(build_urlpatterns!(crate::projects)?))
}

/// The router: the handlers of this module, their users, and [`Perms`] from `settings`.
pub async fn router(settings: Settings, db: Db) -> Result<axum::Router, Box<dyn std::error::Error + Send + Sync>> {
    let settings = self::settings(settings);
    let perms = Perms::from_settings(&settings, &db).await?;
    let app = App::builder(settings)
        .database(db)
        .authenticator(bearer())
        .install(perms) // the checker, and `State<Perms>` for handlers
        .routes(build_urlpatterns!(crate::projects)?)
        .build()?;
    Ok(app.router())
}

fn sqlite(ctx: &Ctx) -> Result<&sqlx::SqlitePool, ApiError> {
    match ctx.db()? {
        Db::Sqlite(pool) => Ok(pool),
        Db::Postgres(_) => Err(ApiError::internal("the projects example runs on SQLite")),
    }
}

/// A project as answered.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct ProjectRow {
    pub id: i64,
    pub name: String,
}

/// Creates a project; the caller becomes its superuser member, and its roles are set up.
#[request_handler(path = "projects/", method = POST, tags = ["projects"])]
pub async fn create_project(
    ctx: Ctx,
    perms: State<Perms>,
    #[param(validate(length(min = 1, max = 100)))] name: String,
) -> ApiResult<ProjectRow> {
    let user = ctx.require_user()?.id;
    let pool = sqlite(&ctx)?;
    let project: ProjectRow = sqlx::query_as("INSERT INTO projects (name) VALUES ($1) RETURNING id, name")
        .bind(&name)
        .fetch_one(pool)
        .await
        .map_err(ApiError::internal)?;
    sqlx::query("INSERT INTO project_members (project_id, user_id, is_superuser) VALUES ($1, $2, TRUE)")
        .bind(project.id)
        .bind(user)
        .execute(pool)
        .await
        .map_err(ApiError::internal)?;
    for (role, permissions) in ROLES {
        for permission in permissions {
            perms.get_or_create_project_role_permission(project.id, role, permission).await?;
        }
    }
    // The membership table is ours: tell every instance it changed.
    perms.invalidate().await?;
    Ok(project)
}

/// The project and what the caller is in it.
#[request_handler(path = "projects/{project_id}/", method = GET, project_required, tags = ["projects"])]
pub async fn show_project(ctx: Ctx, project_id: i64) -> ApiResult<Value> {
    let name: String = sqlx::query_scalar("SELECT name FROM projects WHERE id = $1")
        .bind(project_id)
        .fetch_one(sqlite(&ctx)?)
        .await
        .map_err(ApiError::internal)?;
    let member = ctx.membership().map(|m| json!({"superuser": m.is_superuser, "role": m.role.as_deref()}));
    Ok(json!({"id": project_id, "name": name, "member": member}))
}

/// Adds (or changes) a member with role `editor` or `viewer`.
#[request_handler(
    path = "projects/{project_id}/members/",
    method = POST,
    can_do = "projects.manage_members",
    perm_required,
    project_required,
    tags = ["projects"]
)]
pub async fn add_member(
    ctx: Ctx,
    perms: State<Perms>,
    project_id: i64,
    user_id: i64,
    #[param(validate(custom(function = known_role)))] role: String,
) -> ApiResult<Value> {
    sqlx::query(
        "INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, $3) \
         ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role, enabled = TRUE",
    )
    .bind(project_id)
    .bind(user_id)
    .bind(&role)
    .execute(sqlite(&ctx)?)
    .await
    .map_err(ApiError::internal)?;
    for (other, _) in ROLES {
        perms.remove_user_from_role(user_id, Some(project_id), other).await?;
    }
    perms.add_user_to_role(user_id, Some(project_id), &role).await?;
    perms.invalidate().await?;
    Ok(json!({"user_id": user_id, "role": role}))
}

fn known_role(role: &String) -> Result<(), validator::ValidationError> {
    if ROLES.iter().any(|(name, _)| name == role) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("role").with_message("must be 'editor' or 'viewer'".into()))
    }
}

/// Removes a member and their roles in the project.
#[request_handler(
    path = "projects/{project_id}/members/{user_id}/",
    method = DELETE,
    can_do = "projects.manage_members",
    perm_required,
    project_required,
    tags = ["projects"]
)]
pub async fn remove_member(ctx: Ctx, perms: State<Perms>, project_id: i64, user_id: i64) -> ApiResult<bool> {
    let removed =
        sqlx::query("DELETE FROM project_members WHERE project_id = $1 AND user_id = $2 AND NOT is_superuser")
            .bind(project_id)
            .bind(user_id)
            .execute(sqlite(&ctx)?)
            .await
            .map_err(ApiError::internal)?
            .rows_affected();
    for (role, _) in ROLES {
        perms.remove_user_from_role(user_id, Some(project_id), role).await?;
    }
    perms.invalidate().await?;
    Ok(removed > 0)
}

/// A document as answered.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Document {
    pub id: i64,
    pub title: String,
}

/// The project's documents.
#[request_handler(path = "projects/{project_id}/documents/", method = GET, can_do = "documents.view", perm_required, project_required, tags = ["projects"])]
pub async fn list_documents(ctx: Ctx, project_id: i64) -> ApiResult<Vec<Document>> {
    sqlx::query_as("SELECT id, title FROM documents WHERE project_id = $1 ORDER BY id")
        .bind(project_id)
        .fetch_all(sqlite(&ctx)?)
        .await
        .map_err(ApiError::internal)
}

/// Adds a document.
#[request_handler(path = "projects/{project_id}/documents/", method = POST, can_do = "documents.edit", perm_required, project_required, tags = ["projects"])]
pub async fn add_document(
    ctx: Ctx,
    project_id: i64,
    #[param(validate(length(min = 1, max = 200)))] title: String,
) -> ApiResult<Document> {
    sqlx::query_as("INSERT INTO documents (project_id, title) VALUES ($1, $2) RETURNING id, title")
        .bind(project_id)
        .bind(&title)
        .fetch_one(sqlite(&ctx)?)
        .await
        .map_err(ApiError::internal)
}

/// Only for members whose role is `editor` (a `role:` check on the membership).
#[request_handler(path = "projects/{project_id}/editors-lounge/", method = GET, can_do = "role:editor", perm_required, project_required, tags = ["projects"])]
pub async fn editors_lounge(project_id: i64) -> ApiResult<String> {
    Ok(format!("coffee for the editors of project {project_id}"))
}

/// One step of [`demo`]: who did what, and the status they got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub who: &'static str,
    pub method: &'static str,
    pub path: String,
    pub status: u16,
    pub body: String,
}

/// Walks through the example in-process: ada creates a project, makes bob a viewer and
/// cy an editor; each of them tries things. Returns every step with its answer.
pub async fn demo(router: axum::Router) -> Vec<Step> {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    let mut steps = Vec::new();
    let mut call = async |who: &'static str, method: &'static str, path: String, body: Option<Value>| {
        let token = TOKENS.iter().find(|(_, _, email)| email.starts_with(who)).map_or("", |t| t.0);
        let request = Request::builder()
            .method(method)
            .uri(&path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())));
        let Ok(request) = request else { return Value::Null };
        let Ok(response) = router.clone().oneshot(request).await;
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap_or_default();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        steps.push(Step { who, method, path, status, body: body.clone() });
        serde_json::from_str::<Value>(&body).unwrap_or(Value::Null)
    };

    let created = call("ada", "POST", "/projects/".into(), Some(json!({"name": "Apollo"}))).await;
    let id = created["data"]["id"].as_i64().unwrap_or(0);
    let p = |rest: &str| format!("/projects/{id}/{rest}");
    call("ada", "POST", p("members/"), Some(json!({"user_id": "2", "role": "viewer"}))).await;
    call("ada", "POST", p("members/"), Some(json!({"user_id": "3", "role": "editor"}))).await;
    call("bob", "POST", p("members/"), Some(json!({"user_id": "2", "role": "editor"}))).await; // 403
    call("cy", "POST", p("documents/"), Some(json!({"title": "Flight plan"}))).await;
    call("bob", "GET", p("documents/"), None).await;
    call("bob", "POST", p("documents/"), Some(json!({"title": "Graffiti"}))).await; // 403
    call("bob", "GET", p("editors-lounge/"), None).await; // 403
    call("cy", "GET", p("editors-lounge/"), None).await;
    call("bob", "GET", "/projects/999/documents/".into(), None).await; // 403: no probing for project ids
    call("ada", "DELETE", p("members/3/"), None).await;
    call("cy", "GET", p("documents/"), None).await; // 403 now
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_walkthrough_answers_as_documented() {
        let file = std::env::temp_dir().join(format!("nets-projects-{}.db", uuid::Uuid::new_v4().simple()));
        let db = Db::connect(&format!("sqlite://{}?mode=rwc", file.display()), 4).await.unwrap();
        prepare(&db).await.unwrap();
        let steps = demo(router(Settings::default(), db).await.unwrap()).await;
        let statuses: Vec<u16> = steps.iter().map(|s| s.status).collect();
        assert_eq!(statuses, [200, 200, 200, 403, 200, 200, 403, 403, 200, 403, 200, 403], "{steps:#?}");
        assert_eq!(steps[5].body, r#"{"res":1,"data":[{"id":1,"title":"Flight plan"}]}"#);
        assert_eq!(steps[3].body, r#"{"res":0,"message":"permission denied","data":null}"#);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    }
}
