//! The smallest complete nets application: one model, two endpoints, and `main` in its
//! short form. `cargo run -p myapp` serves it on 127.0.0.1:8000 (SQLite in `nets.db`),
//! with nets' account endpoints (`/login/`, `/authenticate/`, ...), OAuth2 tokens,
//! `/openapi.json` and `/docs/`; `cargo run -p myapp -- --help` lists the management
//! commands.

use nets_runtime::cli::Manage;
use nets_runtime::prelude::*;
use sqlx::migrate::Migrator;

/// The `tasks` table.
static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

mod api {
    use nets_runtime::prelude::*;

    /// A task of one user; other users never see it.
    #[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, NetsModel)]
    #[nets(table = "tasks", owner = "user_id")]
    pub struct Task {
        pub id: i64,
        pub user_id: i64,
        pub title: String,
        pub done: bool,
    }

    /// Adds a task for the caller.
    #[request_handler(path = "tasks/", method = POST, tags = ["tasks"])]
    pub async fn add_task(ctx: Ctx, #[param(validate(length(min = 1, max = 200)))] title: String) -> ApiResult<Task> {
        let user = ctx.require_user()?.id;
        let sql = "INSERT INTO tasks (user_id, title) VALUES ($1, $2) RETURNING id, user_id, title, done";
        nets_runtime::on_pool!(ctx.db()?, |pool| sqlx::query_as(sql).bind(user).bind(&title).fetch_one(pool).await)
            .map_err(ApiError::internal)
    }

    /// One of the caller's tasks (another user's answers 404).
    #[request_handler(path = "tasks/{id}/", method = GET, model = Task, tags = ["tasks"])]
    pub async fn show_task(task: Task) -> ApiResult<Task> {
        Ok(task)
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    Manage::new(async |app| Ok(app.routes(build_urlpatterns!(crate::api)?))).migrations(&MIGRATIONS).run().await
}
