// Foreign keys (`references`, also `Option` and string keys), relations in `json_fields`,
// `to_json_in` and `Update` on a derived model.
use nets_runtime::prelude::*;

#[derive(Debug, Clone, serde::Serialize, NetsModel)]
#[nets(table = "people", index = "handle", json_fields(handle, name, mentor))]
struct Person {
    handle: String,
    name: String,
    #[nets(references = Person)]
    mentor_id: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, NetsModel)]
#[nets(table = "invoices", json_fields(id, title, user), owner = "user_id")]
struct Invoice {
    id: i64,
    #[nets(references = Person)]
    user_id: i64,
    title: String,
    updated_fields: String,
}

#[request_handler(path = "invoices/{id}/", method = POST, model = Invoice)]
async fn rename(ctx: Ctx, mut invoice: Invoice, title: String) -> ApiResult<serde_json::Map<String, serde_json::Value>> {
    invoice.update(&ctx, |i| i.title = title).await?;
    Ok(invoice.to_json_in(&ctx, Fields::Default).await?)
}

fn main() {
    assert_eq!(<Invoice as ToJson>::RELATIONS[0].key, "user");
    assert_eq!(<Person as ToJson>::RELATIONS[0].column, "mentor_id");
}
