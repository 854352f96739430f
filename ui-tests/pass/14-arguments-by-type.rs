// Arguments are recognised by their type's `HandlerArg`, not by how the type is spelled:
// aliases of the context and of a model, and application state.
use nets_runtime::State;
use nets_runtime::prelude::*;

/// The context under another name.
type Context = nets_runtime::Ctx;

#[derive(serde::Serialize)]
struct Invoice {
    id: i64,
}

impl NetsModel for Invoice {
    const TABLE: &'static str = "invoices";

    async fn find_by_index(_ctx: &Ctx, _field: &str, value: &str) -> Result<Option<Self>, ApiError> {
        Ok(value.parse().ok().map(|id| Invoice { id }))
    }
}
nets_runtime::model_argument!(Invoice);

/// The model under another name.
type Bill = Invoice;

#[derive(Clone)]
struct Greeting(&'static str);

#[request_handler(path = "bills/{id}/", method = GET, model = Bill)]
async fn show_bill(bill: Bill, ctx: Context, greeting: State<Greeting>, note: String) -> ApiResult<String> {
    let _ = ctx.perm();
    Ok(format!("{} {} {note}", greeting.0.0, bill.id))
}

fn main() {
    // Only `note` (and the model's `{id}`) are request parameters.
    let doc = serde_json::to_value(nets_runtime::build_openapi(&Settings::default())).unwrap();
    let operation = &doc["paths"]["/bills/{id}/"]["get"];
    let names: Vec<&str> =
        operation["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["note", "id"], "{operation}");

    // The state is a need of the endpoint, checked by build().
    let routes = nets_runtime::build_urlpatterns!().expect("routes");
    let app = || App::builder(Settings::default()).authenticator(nets_runtime::auth::StaticBearer::new());
    let err = app().routes(routes.clone()).build().expect_err("no Greeting");
    assert!(err.to_string().contains("Greeting"), "{err}");
    app().state(Greeting("hi")).routes(routes).build().expect("wired");
}
