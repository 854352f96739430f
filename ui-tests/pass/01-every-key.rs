// Every `#[request_handler]` key at once. `method` (the one-verb alias of `methods`) and
// `public` (which makes `perm_required` pointless) get their own handler.
use axum::response::{IntoResponse, Response};
use nets_runtime::openapi::{Components, Operation};
use nets_runtime::prelude::*;
use serde::Serialize;

#[derive(Serialize)]
struct Invoice {
    id: i64,
    number: String,
    user_id: i64,
}

impl NetsModel for Invoice {
    const TABLE: &'static str = "invoices";

    fn owner_id(&self) -> Option<i64> {
        Some(self.user_id)
    }

    async fn find_by_index(_ctx: &Ctx, _field: &str, value: &str) -> Result<Option<Self>, ApiError> {
        Ok(Some(Invoice { id: 1, number: value.to_owned(), user_id: 7 }))
    }
}
nets_runtime::model_argument!(Invoice);

fn upload_limit(_: &App) -> usize {
    1 << 20
}

/// The pipeline's refusals in the endpoint's own shape.
fn plain_errors(error: ApiError) -> Response {
    (error.status(), error.to_string()).into_response()
}

fn mark_operation(op: &mut Operation, _: &mut Components) {
    op.summary = Some("Archived".into());
}

/// Archives an invoice. This doc comment becomes the OpenAPI description.
#[request_handler(
    path = "projects/invoices/{number}/archive/",
    url = "projects/invoices/{number}/archive/",
    name = "invoice-archive",
    methods = [POST, "patch"],
    can_do = ["billing.archive", "archive", "role:accountant"],
    perm_required,
    model = Invoice,
    index_field = "number",
    project_required,
    tags = ["invoices", "archive"],
    summary = "Archive an invoice",
    deprecated,
    body_limit = upload_limit,
    errors = plain_errors,
    openapi = mark_operation,
)]
async fn archive_invoice(ctx: Ctx, invoice: Invoice) -> ApiResult<i64> {
    let _ = ctx.perm();
    Ok(invoice.id)
}

#[request_handler(path = "health/", method = GET, public)]
async fn health() -> ApiResult<&'static str> {
    Ok("ok")
}

fn main() {
    let routes = nets_runtime::route_registry();
    let archive = routes.iter().find(|r| r.name == "invoice-archive").expect("archive route registered");
    assert_eq!(archive.path, "/projects/invoices/{number}/archive/");
    assert_eq!(archive.methods, ["POST", "PATCH"]);
    assert!(!archive.public);
    let health = routes.iter().find(|r| r.name == "health").expect("health route registered");
    assert_eq!(health.methods, ["GET"]);
    assert!(health.public);
    let doc = serde_json::to_value(nets_runtime::build_openapi(&Settings::default())).unwrap();
    assert!(doc["paths"]["/projects/invoices/{number}/archive/"]["post"]["deprecated"] == true, "{doc}");
    assert!(doc["paths"]["/projects/invoices/{number}/archive/"]["post"]["summary"] == "Archived", "{doc}");
    assert!(doc["paths"]["/health/"]["get"].is_object(), "{doc}");
    let _ = nets_runtime::build_urlpatterns!().expect("no route conflicts");
}
