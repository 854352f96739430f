// `model = T` with `index_field`: the `{slug}` path parameter finds the object, and the
// handler receives it (no `slug` argument needed).
use nets_runtime::prelude::*;
use serde::Serialize;

#[derive(Serialize)]
struct Article {
    slug: String,
    title: String,
}

impl NetsModel for Article {
    const TABLE: &'static str = "articles";
    const INDEX_FIELD: &'static str = "slug";

    async fn find_by_index(_ctx: &Ctx, field: &str, value: &str) -> Result<Option<Self>, ApiError> {
        assert_eq!(field, "slug");
        Ok(Some(Article { slug: value.to_owned(), title: "Hello".into() }))
    }
}
nets_runtime::model_argument!(Article);

#[request_handler(path = "articles/{slug}/", method = GET, public, model = Article, index_field = "slug", public_objects)]
async fn show_article(article: Article) -> ApiResult<Article> {
    Ok(article)
}

#[request_handler(path = "articles/{slug}/title/", method = GET, public, model = Article, public_objects)]
async fn article_title(ctx: Ctx, article: Article) -> ApiResult<String> {
    let _ = ctx.user();
    Ok(article.title)
}

fn main() {
    let doc = serde_json::to_value(nets_runtime::build_openapi(&Settings::default())).unwrap();
    for path in ["/articles/{slug}/", "/articles/{slug}/title/"] {
        assert_eq!(doc["paths"][path]["get"]["parameters"][0]["name"], "slug", "{doc}");
    }
}
