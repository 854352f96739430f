//! OpenAPI fragments for the routes nets ships as plain axum routers (`OAuth::router`,
//! whose RFC 6749 answers are not nets' envelope), written as the JSON they serialise to: for fixed documents this
//! reads like the document itself, which a builder chain does not.

use serde_json::{Value, json};
use utoipa::openapi::OpenApi;

/// A document of `parts` (`paths`, optionally `components`), to merge with
/// [`AppBuilder::document`](crate::AppBuilder::document).
pub(crate) fn document(parts: Value) -> OpenApi {
    let mut doc = json!({"openapi": "3.1.0", "info": {"title": "nets", "version": "1"}});
    if let (Some(doc), Value::Object(parts)) = (doc.as_object_mut(), parts) {
        doc.extend(parts);
    }
    serde_json::from_value(doc).unwrap_or_else(|e| {
        // The fragments are fixed; a unit test parses each, so this is a bug in nets.
        tracing::error!(error = %e, "a built-in OpenAPI fragment does not parse; its routes are left out");
        OpenApi::default()
    })
}

/// An operation: `id`, `summary`, tag, extension naming the view, and `fields`
/// (`requestBody`, `responses`, `security`, ..) merged in.
pub(crate) fn operation(id: &str, summary: &str, tag: &str, view: &str, fields: Value) -> Value {
    let mut op = json!({"operationId": id, "summary": summary, "tags": [tag], "x-nets-view": view});
    if let (Some(op), Value::Object(fields)) = (op.as_object_mut(), fields) {
        op.extend(fields);
    }
    op
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fragment_keeps_its_paths() {
        let pong = json!({"description": "pong", "content": {"application/json": {"schema": {"type": "string"}}}});
        let op = operation("ping_get", "Ping", "t", "v", json!({"responses": {"200": pong}}));
        let doc = document(json!({"paths": {"/ping/": {"get": op}}}));
        assert!(doc.paths.paths.contains_key("/ping/"));
        let bad = document(json!({"paths": {"/x/": {"get": {"responses": 5}}}}));
        assert!(bad.paths.paths.is_empty(), "an unparsable fragment is left out, not half-read");
        // utoipa reads back only schemas with a `type`: the fragments always give one.
        assert!(serde_json::from_value::<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>(json!({})).is_err());
    }
}
