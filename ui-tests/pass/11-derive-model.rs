// `#[derive(NetsModel)]` with every key, an `Option<i64>` owner, raw-identifier and
// non-index columns of any type, used by `model = ..` endpoints and `to_json`.
use nets_runtime::prelude::*;

#[derive(Debug, Clone, serde::Serialize, NetsModel)]
#[nets(table = "billing.invoices", json_fields(id, title, total))]
#[nets(protected(internal_note), owner = "user_id", index = "id")]
struct Invoice {
    id: i64,
    user_id: Option<i64>,
    title: String,
    total: i64,
    internal_note: String,
    r#type: String,
    tags: Vec<String>,
}

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "articles", index = "slug")]
struct Article {
    slug: String,
    title: String,
}

#[request_handler(path = "invoices/{id}/", method = GET, model = Invoice)]
async fn show_invoice(ctx: Ctx, invoice: Invoice) -> ApiResult<serde_json::Map<String, serde_json::Value>> {
    Ok(invoice.to_json(ctx.settings(), Fields::Only(&["title", "type"]))?)
}

#[request_handler(path = "articles/{slug}/", method = GET, public, model = Article, public_objects)]
async fn show_article(article: Article) -> ApiResult<Article> {
    Ok(article)
}

fn main() {
    assert_eq!(<Invoice as NetsModel>::TABLE, "billing.invoices");
    assert_eq!(<Article as NetsModel>::INDEX_FIELD, "slug");
    assert_eq!(<Invoice as ToJson>::FIELDS, ["id", "user_id", "title", "total", "internal_note", "type", "tags"]);
    assert_eq!(<Invoice as ToJson>::PROTECTED_FIELDS, ["internal_note"]);
    let invoice = Invoice {
        id: 1,
        user_id: None,
        title: "Rent".into(),
        total: 9,
        internal_note: String::new(),
        r#type: "monthly".into(),
        tags: vec![],
    };
    assert_eq!(invoice.owner_id(), None);
}
