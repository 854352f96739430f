//! The OpenAPI document: built from a fixed set of handlers (`NETS_CORE_OPENAPI_MODULES`
//! limits it to `openapi::api`), compared with a golden copy, checked operation by
//! operation, validated against the official OpenAPI 3.1 JSON Schema, and served over
//! HTTP at `/openapi.json` and `/docs/`.
//!
//! After an intended change to the document, regenerate the golden copy with
//! `NETS_UPDATE_GOLDEN=1 cargo test -p nets-tests --test openapi` and review its diff.

use std::path::PathBuf;

use nets_runtime::{Settings, build_openapi, build_urlpatterns};
use nets_tests::{TestServer, app, body_schema, resolved, settings};
use serde_json::{Value, json};

mod api {
    use chrono::{DateTime, NaiveDate, Utc};
    use nets_runtime::prelude::*;
    use serde::{Deserialize, Serialize};
    use serde_json::{Value, json};
    use uuid::Uuid;
    use validator::Validate;

    /// Lists invoices.
    ///
    /// Filters combine with AND.
    #[request_handler(path = "invoices/", method = GET, public, tags = ["billing"], summary = "List invoices")]
    #[allow(clippy::too_many_arguments)]
    pub async fn list_invoices(
        #[param(validate(length(min = 1, max = 40)), description = "Text to search for")] q: String,
        #[param(validate(range(min = 1, max = 100)))] per_page: Option<i64>,
        #[param(default = 1)] page: u32,
        #[param(default = false)] archived: bool,
        status: Option<Vec<String>>,
        since: Option<NaiveDate>,
        updated_after: Option<DateTime<Utc>>,
        #[param(validate(regex = "^[A-Z]{3}$"))] currency: Option<String>,
        customer: Option<Uuid>,
        contact: Option<Email>,
        #[param(validate(range(exclusive_min = 0.0, max = 1000000.0)))] min_total: Option<f64>,
        filter: Option<serde_json::Map<String, Value>>,
    ) -> ApiResult<Value> {
        let _ =
            (per_page, page, archived, status, since, updated_after, currency, customer, contact, min_total, filter);
        Ok(json!([q]))
    }

    /// Creates an invoice.
    #[request_handler(path = "invoices/", method = POST, tags = ["billing"], can_do = "billing.create", perm_required)]
    pub async fn create_invoice(
        #[param(validate(length(min = 1, max = 80)))] title: String,
        #[param(validate(range(min = 0)))] amount: i64,
        #[param(validate(email))] notify: Option<String>,
        #[param(default = Vec::new())] lines: Vec<i32>,
    ) -> ApiResult<Value> {
        Ok(json!({"title": title, "amount": amount, "notify": notify, "lines": lines}))
    }

    /// An invoice.
    #[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
    pub struct Invoice {
        pub id: i64,
        pub owner: i64,
        pub title: String,
    }

    impl NetsModel for Invoice {
        const TABLE: &'static str = "invoices";

        fn owner_id(&self) -> Option<i64> {
            Some(self.owner)
        }

        async fn find_by_index(_ctx: &Ctx, _field: &str, value: &str) -> Result<Option<Self>, ApiError> {
            Ok((value == "1").then(|| Invoice { id: 1, owner: 1, title: "first".into() }))
        }
    }
    nets_runtime::model_argument!(Invoice);

    #[request_handler(path = "invoices/{id}/", method = GET, model = Invoice, tags = ["billing"])]
    pub async fn show_invoice(invoice: Invoice) -> ApiResult<Invoice> {
        Ok(invoice)
    }

    #[request_handler(path = "invoices/{id}/pdf/", method = POST, model = Invoice, tags = ["billing"])]
    pub async fn attach_pdf(
        invoice: Invoice,
        #[param(filetypes = ["application/pdf"])] pdf: UploadedFile,
        #[param(validate(email))] notify: Option<String>,
    ) -> ApiResult<Value> {
        Ok(json!({"invoice": invoice.id, "size": pdf.len(), "notify": notify}))
    }

    /// A new note.
    #[derive(Debug, Deserialize, Serialize, Validate, utoipa::ToSchema)]
    pub struct NewNote {
        #[validate(length(min = 1, max = 200))]
        pub text: String,
        #[serde(default)]
        pub pinned: bool,
    }

    /// A stored note.
    #[derive(Debug, Serialize, utoipa::ToSchema)]
    pub struct Note {
        pub id: i64,
        pub text: String,
        pub pinned: bool,
    }

    #[request_handler(path = "notes/", method = POST, public)]
    pub async fn create_note(#[param(body)] note: NewNote) -> ApiResult<Note> {
        Ok(Note { id: 1, text: note.text, pinned: note.pinned })
    }

    #[request_handler(path = "legacy/", name = "legacy-endpoint", public, deprecated)]
    pub async fn legacy(ctx: Ctx) -> ApiResult<bool> {
        Ok(ctx.perm())
    }
}

/// Served by the same app but outside `NETS_CORE_OPENAPI_MODULES`: not documented.
mod undocumented {
    use nets_runtime::prelude::*;

    #[request_handler(path = "internal/health/", method = GET, public)]
    pub async fn health() -> ApiResult<&'static str> {
        Ok("ok")
    }
}

/// An `openapi = f` that panics while the document is built.
mod panicking {
    use nets_runtime::openapi::{Components, Operation};
    use nets_runtime::prelude::*;

    fn broken(_: &mut Operation, _: &mut Components) {
        panic!("a broken openapi adjuster");
    }

    #[request_handler(path = "panicking/", method = GET, public, openapi = broken)]
    pub async fn panicking() -> ApiResult<&'static str> {
        Ok("served")
    }
}

fn doc_settings() -> Settings {
    settings(
        "NETS_CORE_OPENAPI_MODULES = ['openapi::api']\n\
         NETS_CORE_OPENAPI_TITLE = 'Billing API'\n\
         NETS_CORE_OPENAPI_VERSION = '2.1.0'\n\
         NETS_CORE_OPENAPI_DESCRIPTION = 'Invoices and notes.'\n\
         NETS_CORE_OPENAPI_TAGS = ['general']",
    )
}

/// The document as JSON.
/// The document with its keys sorted at every depth, as `/openapi.json` serves it.
fn document() -> Value {
    fn sort_keys(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.sort_keys();
                map.values_mut().for_each(sort_keys);
            }
            Value::Array(items) => items.iter_mut().for_each(sort_keys),
            _ => {}
        }
    }
    let mut doc = serde_json::to_value(build_openapi(&doc_settings())).expect("the document serialises");
    sort_keys(&mut doc);
    doc
}

fn operation<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "no operation {method} {path}");
    op
}

fn response_codes(op: &Value) -> Vec<&str> {
    op["responses"].as_object().map(|r| r.keys().map(String::as_str).collect()).unwrap_or_default()
}

fn parameter<'a>(op: &'a Value, name: &str) -> &'a Value {
    let params = op["parameters"].as_array().expect("parameters");
    params.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("parameter {name}"))
}

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden").join("openapi.json")
}

/// JSON pointers where `a` and `b` differ (at most `limit`).
fn differences(a: &Value, b: &Value, at: String, out: &mut Vec<String>, limit: usize) {
    if out.len() >= limit || a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let key = k.replace('~', "~0").replace('/', "~1");
                differences(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    format!("{at}/{key}"),
                    out,
                    limit,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                differences(p, q, format!("{at}/{i}"), out, limit);
            }
        }
        _ => out.push(format!("{at}: golden {b} / built {a}")),
    }
}

#[test]
fn the_document_matches_the_golden_copy() {
    let built = document();
    let path = golden_path();
    let mut text = serde_json::to_string_pretty(&built).expect("pretty JSON");
    text.push('\n');
    if std::env::var_os("NETS_UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&path, text).expect("write the golden copy");
        return;
    }
    let hint = "if the change is intended, regenerate it with `NETS_UPDATE_GOLDEN=1 cargo test -p nets-tests --test openapi` and review the diff";
    let golden_text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}; {hint}", path.display()));
    let golden: Value = serde_json::from_str(&golden_text).expect("the golden copy is JSON");
    let mut diffs = Vec::new();
    differences(&built, &golden, String::new(), &mut diffs, 20);
    assert!(
        diffs.is_empty(),
        "the OpenAPI document differs from {}:\n  {}\n{hint}",
        path.display(),
        diffs.join("\n  ")
    );
    assert_eq!(text, golden_text, "same JSON, different formatting in {}; {hint}", path.display());
}

#[test]
fn the_document_describes_the_api_and_only_the_selected_modules() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"], json!({"title": "Billing API", "version": "2.1.0", "description": "Invoices and notes."}));
    let paths: Vec<&str> = doc["paths"].as_object().expect("paths").keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        ["/invoices/", "/invoices/{id}/", "/invoices/{id}/pdf/", "/legacy/", "/notes/", "/openapi.json"],
        "`undocumented` stays out"
    );
    assert_eq!(doc["tags"], json!([{"name": "billing"}, {"name": "general"}]));
    assert_eq!(doc["components"]["securitySchemes"], json!({"bearerAuth": {"type": "http", "scheme": "bearer"}}));
}

#[test]
fn operations_are_named_and_tagged_from_their_declaration() {
    let doc = document();
    let list = operation(&doc, "/invoices/", "get");
    assert_eq!(list["operationId"], "list_invoices_get");
    assert_eq!(list["tags"], json!(["billing"]));
    assert_eq!(list["summary"], "List invoices");
    assert_eq!(list["description"], "Lists invoices.\n\nFilters combine with AND.");
    assert_eq!(list["x-nets-route-name"], "list_invoices");
    assert_eq!(list["x-nets-view"], "openapi::api::list_invoices");
    let create = operation(&doc, "/invoices/", "post");
    assert_eq!(create["operationId"], "create_invoice_post");
    assert_eq!(create["x-nets-view"], "openapi::api::create_invoice");
    assert_eq!(create["x-nets-permissions"], json!(["billing.create"]));
    assert_eq!(create["description"], "Creates an invoice.\n\nRequires permission: `billing.create`.");
    // Without `tags`, NETS_CORE_OPENAPI_TAGS applies; `-` in names becomes `_` in ids.
    let methods = ["get", "post", "put", "patch", "delete", "head", "options"];
    for method in methods {
        let op = operation(&doc, "/legacy/", method);
        assert_eq!(op["operationId"], format!("legacy_endpoint_{method}"));
        assert_eq!(op["x-nets-route-name"], "legacy-endpoint");
        assert_eq!(op["tags"], json!(["general"]));
        assert_eq!(op["deprecated"], true);
    }
    assert_eq!(doc["paths"]["/legacy/"].as_object().map(|o| o.len()), Some(methods.len()));
}

#[test]
fn query_parameters_carry_types_requirements_defaults_and_constraints() {
    let doc = document();
    let list = operation(&doc, "/invoices/", "get");
    let names: Vec<&str> =
        list["parameters"].as_array().expect("parameters").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "q",
            "per_page",
            "page",
            "archived",
            "status",
            "since",
            "updated_after",
            "currency",
            "customer",
            "contact",
            "min_total",
            "filter"
        ]
    );
    let q = parameter(list, "q");
    assert_eq!(
        (&q["in"], &q["required"], &q["description"]),
        (&json!("query"), &json!(true), &json!("Text to search for"))
    );
    assert_eq!(q["schema"], json!({"type": "string", "minLength": 1, "maxLength": 40}));
    let per_page = parameter(list, "per_page");
    assert_eq!(per_page["required"], false);
    assert_eq!((&per_page["schema"]["type"], &per_page["schema"]["format"]), (&json!("integer"), &json!("int64")));
    assert_eq!((&per_page["schema"]["minimum"], &per_page["schema"]["maximum"]), (&json!(1), &json!(100)));
    let page = parameter(list, "page");
    assert_eq!(
        (&page["required"], &page["schema"]["default"], &page["schema"]["minimum"]),
        (&json!(false), &json!(1), &json!(0))
    );
    assert_eq!(parameter(list, "archived")["schema"], json!({"type": "boolean", "default": false}));
    assert_eq!(parameter(list, "status")["schema"], json!({"type": "array", "items": {"type": "string"}}));
    assert_eq!(parameter(list, "since")["schema"], json!({"type": "string", "format": "date"}));
    assert_eq!(parameter(list, "updated_after")["schema"], json!({"type": "string", "format": "date-time"}));
    assert_eq!(parameter(list, "currency")["schema"], json!({"type": "string", "pattern": "^[A-Z]{3}$"}));
    assert_eq!(parameter(list, "customer")["schema"], json!({"type": "string", "format": "uuid"}));
    assert_eq!(parameter(list, "contact")["schema"], json!({"type": "string", "format": "email"}));
    assert_eq!(
        parameter(list, "min_total")["schema"],
        json!({"type": "number", "format": "double", "exclusiveMinimum": 0, "maximum": 1000000})
    );
    // An object in a query string travels JSON-encoded, and the document says so.
    assert_eq!(parameter(list, "filter")["schema"], json!({"type": "string", "contentMediaType": "application/json"}));
    assert!(list.get("requestBody").is_none(), "GET has no body");
}

#[test]
fn bodies_are_documented_as_json_form_and_multipart() {
    let doc = document();
    let create = operation(&doc, "/invoices/", "post");
    assert!(create.get("parameters").is_none(), "POST parameters live in the body");
    let body = &create["requestBody"];
    assert_eq!(body["required"], true);
    let content = body["content"].as_object().expect("content");
    let types: Vec<&str> = content.keys().map(String::as_str).collect();
    assert_eq!(types, ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]);
    let shared = &content["application/json"]["schema"];
    assert!(content.values().all(|media| media["schema"] == *shared), "one schema for every media type");
    // Shared as a component named after the operation, not repeated three times.
    assert_eq!(*shared, json!({"$ref": "#/components/schemas/create_invoice_post_body"}));
    let schema = resolved(&doc, shared);
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["required"], json!(["title", "amount"]));
    assert_eq!(schema["properties"]["title"], json!({"type": "string", "minLength": 1, "maxLength": 80}));
    assert_eq!(schema["properties"]["amount"]["minimum"], json!(0));
    assert_eq!(schema["properties"]["notify"], json!({"type": "string", "format": "email"}));
    assert_eq!(
        schema["properties"]["lines"],
        json!({"type": "array", "items": {"type": "integer", "format": "int32", "minimum": -2147483648_i64, "maximum": 2147483647}, "default": []})
    );
}

#[test]
fn a_file_parameter_makes_the_body_multipart_only() {
    let doc = document();
    let attach = operation(&doc, "/invoices/{id}/pdf/", "post");
    let content = attach["requestBody"]["content"].as_object().expect("content");
    assert_eq!(content.keys().collect::<Vec<_>>(), ["multipart/form-data"]);
    let schema = &content["multipart/form-data"]["schema"];
    assert_eq!(schema["properties"]["pdf"], json!({"type": "string", "format": "binary"}));
    assert_eq!(schema["required"], json!(["pdf"]));
    let id = parameter(attach, "id");
    assert_eq!((&id["in"], &id["required"], &id["schema"]), (&json!("path"), &json!(true), &json!({"type": "string"})));
}

#[test]
fn structured_bodies_and_data_reference_component_schemas() {
    let doc = document();
    let create = operation(&doc, "/notes/", "post");
    let content = &create["requestBody"]["content"];
    assert_eq!(content["application/json"]["schema"], json!({"$ref": "#/components/schemas/NewNote"}));
    let data = &create["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(data["properties"]["data"], json!({"$ref": "#/components/schemas/Note"}));
    assert_eq!(data["properties"]["res"], json!({"type": "integer", "enum": [1]}));
    assert_eq!(data["required"], json!(["res", "data"]));
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let names: Vec<&str> = schemas.keys().map(String::as_str).collect();
    assert_eq!(names, ["Invoice", "NetsError", "NetsSuccess", "NewNote", "Note", "create_invoice_post_body"]);
    assert_eq!(schemas["NewNote"]["required"], json!(["text"]));
    assert_eq!(
        operation(&doc, "/invoices/{id}/", "get")["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
            ["data"],
        json!({"$ref": "#/components/schemas/Invoice"})
    );
}

#[test]
fn responses_and_security_follow_what_the_endpoint_can_answer() {
    let doc = document();
    // Public GET: no security, no 401.
    let list = operation(&doc, "/invoices/", "get");
    assert_eq!(response_codes(list), ["200", "400", "405"]);
    assert!(list.get("security").is_none());
    // Private POST with a permission.
    let create = operation(&doc, "/invoices/", "post");
    assert_eq!(response_codes(create), ["200", "400", "401", "403", "405", "413", "415"]);
    assert_eq!(create["security"], json!([{"bearerAuth": []}]));
    // Private with a model: 404 for missing or someone else's object.
    let show = operation(&doc, "/invoices/{id}/", "get");
    assert_eq!(response_codes(show), ["200", "400", "401", "404", "405"]);
    assert_eq!(show["security"], json!([{"bearerAuth": []}]));
    // Public POST with a body.
    let note = operation(&doc, "/notes/", "post");
    assert_eq!(response_codes(note), ["200", "400", "405", "413", "415"]);
    assert!(note.get("security").is_none());
    let error = json!({"$ref": "#/components/schemas/NetsError"});
    for code in ["400", "401", "403", "405", "413", "415"] {
        // One shared response per status, referred to by every operation.
        let response = &create["responses"][code];
        assert!(response["$ref"].as_str().is_some_and(|r| r.starts_with("#/components/responses/Nets")), "{response}");
        assert_eq!(resolved(&doc, response)["content"]["application/json"]["schema"], error, "{code}");
        assert!(resolved(&doc, response)["description"].as_str().is_some_and(|d| !d.is_empty()), "{code}");
    }
    assert_eq!(
        resolved(&doc, &show["responses"]["404"])["description"],
        "Not found (or not yours)",
        "the shared 404 says what it means"
    );
    assert_eq!(doc["components"]["schemas"]["NetsError"]["required"], json!(["res", "message", "data"]));
}

fn oas_validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(include_str!("../fixtures/openapi-3.1-schema.json")).expect("the OAS schema is JSON");
    jsonschema::draft202012::new(&schema).expect("the OAS 3.1 schema compiles")
}

/// Every problem `validator` finds in `doc`, as `instance path: message`.
fn problems(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator.iter_errors(doc).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    let problems = problems(&oas_validator(), &document());
    assert!(problems.is_empty(), "not a valid OpenAPI 3.1 document:\n{}", problems.join("\n"));
}

#[test]
fn the_validator_rejects_broken_documents() {
    let validator = oas_validator();
    let good = document();
    assert!(validator.is_valid(&good));

    let mut wrong_version = good.clone();
    wrong_version["openapi"] = json!("3.0.3");
    let mut no_info = good.clone();
    no_info.as_object_mut().expect("object").remove("info");
    let mut body_parameter = good.clone();
    body_parameter["paths"]["/invoices/"]["get"]["parameters"][0]["in"] = json!("body");
    let mut unnamed_parameter = good.clone();
    unnamed_parameter["paths"]["/invoices/"]["get"]["parameters"][0].as_object_mut().expect("parameter").remove("name");
    let mut bad_status = good.clone();
    bad_status["paths"]["/notes/"]["post"]["responses"]["2000"] = json!({"description": "nope"});
    let mut relative_path = good.clone();
    let item = relative_path["paths"]["/notes/"].clone();
    relative_path["paths"]["notes/"] = item;
    for (what, broken) in [
        ("openapi 3.0.3", wrong_version),
        ("no info", no_info),
        ("in: body", body_parameter),
        ("a parameter without a name", unnamed_parameter),
        ("status 2000", bad_status),
        ("path without /", relative_path),
    ] {
        assert!(!problems(&validator, &broken).is_empty(), "the validator accepted a document with {what}");
    }
}

/// Every Schema Object of the document, with where it is.
fn schema_objects(doc: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
        out.push((format!("components/schemas/{name}"), schema));
    }
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                out.push((format!("{method} {path} parameter {}", p["name"]), &p["schema"]));
            }
            for (media, content) in op["requestBody"]["content"].as_object().into_iter().flatten() {
                out.push((format!("{method} {path} body {media}"), &content["schema"]));
            }
            for (code, response) in op["responses"].as_object().into_iter().flatten() {
                for (media, content) in response["content"].as_object().into_iter().flatten() {
                    out.push((format!("{method} {path} {code} {media}"), &content["schema"]));
                }
            }
        }
    }
    out
}

#[test]
fn every_schema_object_is_valid_json_schema_2020_12() {
    let doc = document();
    let schemas = schema_objects(&doc);
    // Request bodies and envelopes are components, each counted once.
    assert!(schemas.len() > 30, "found only {} schema objects", schemas.len());
    for (at, schema) in schemas {
        if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
            panic!("{at} is not a valid JSON Schema 2020-12: {e}\n{schema}");
        }
    }
    // And the check can fail: an OpenAPI 3.0 style boolean exclusiveMinimum is not 2020-12.
    assert!(jsonschema::draft202012::meta::validate(&json!({"type": "number", "exclusiveMinimum": true})).is_err());
}

async fn server(settings: Settings) -> TestServer {
    let routes = build_urlpatterns!(crate::api, crate::undocumented).expect("routes");
    TestServer::start(app(settings).routes(routes).build().expect("app").router()).await
}

#[tokio::test]
async fn the_document_is_the_same_bytes_from_every_app() {
    // Each app builds its own document, with its own hash maps (utoipa keeps the
    // `x-nets-*` extensions in them): the bytes must not depend on their order.
    let mut bodies = Vec::new();
    for _ in 0..4 {
        let s = server(doc_settings()).await;
        bodies.push(s.send(s.get("/openapi.json")).await.bytes);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "the served bytes differ between apps");
    let text = String::from_utf8(bodies[0].to_vec()).expect("UTF-8");
    let route = text.find("\"x-nets-route-name\"").expect("extensions are served");
    let view = text[route..].find("\"x-nets-view\"").expect("a view follows its route name");
    assert!(view > 0, "object keys come out sorted");
}

#[tokio::test]
async fn the_document_is_served_at_openapi_json() {
    let s = server(doc_settings()).await;
    let reply = s.send(s.get("/openapi.json")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.json, document());
    // Compact: indentation would be a third of the bytes, for no reader.
    assert!(!reply.text().contains('\n') && !reply.text().contains("  "), "served indented");
    // Served, though not documented.
    s.send(s.get("/internal/health/")).await.assert_data(json!("ok"));
    let head = s.send(s.request(reqwest::Method::HEAD, "/openapi.json")).await;
    assert_eq!((head.status, head.bytes.len()), (200, 0));
    let post = s.send(s.post("/openapi.json")).await;
    post.assert_error(405, "method not allowed");
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn the_served_document_lists_itself() {
    let s = server(doc_settings()).await;
    let doc = s.send(s.get("/openapi.json")).await.json;
    let own = operation(&doc, "/openapi.json", "get");
    assert_eq!(own["operationId"], "openapi_schema_get");
    assert_eq!(own["x-nets-route-name"], "openapi_schema");
    assert!(own.get("security").is_none());
}

#[tokio::test]
async fn the_api_page_is_served_at_docs() {
    let s = server(doc_settings()).await;
    let page = s.send(s.get("/docs/")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.header("content-type").unwrap_or_default().starts_with("text/html"));
    assert!(page.text().contains("swagger-ui"), "{}", page.text());
    // The page loads this API's document.
    let init = s.send(s.get("/docs/swagger-initializer.js")).await;
    assert_eq!(init.status, 200);
    assert!(init.text().contains("/openapi.json"), "{}", init.text());
    // Without the slash, a redirect to it.
    let bare = s.send(s.get("/docs")).await;
    assert!((300..400).contains(&bare.status), "GET /docs answered {}", bare.status);
    assert!(bare.header("location").is_some_and(|l| l.ends_with("/docs/")), "{:?}", bare.header("location"));
}

/// Swagger UI's assets are compressed once and revalidated by `ETag`, like the document.
#[tokio::test]
async fn the_api_page_assets_are_sent_precompressed() {
    use std::io::Read;
    let s = server(doc_settings()).await;
    let path = "/docs/swagger-ui-bundle.js";
    let plain = s.send(s.get(path)).await;
    assert_eq!((plain.status, plain.header("content-encoding")), (200, None));
    assert!(
        plain.header("content-type").is_some_and(|t| t.contains("javascript")),
        "{:?}",
        plain.header("content-type")
    );
    assert!(plain.bytes.len() > 500_000, "{} bytes", plain.bytes.len());

    let br = s.send(s.get(path).header("accept-encoding", "gzip, br")).await;
    assert_eq!((br.status, br.header("content-encoding")), (200, Some("br")));
    assert!(br.bytes.len() * 3 < plain.bytes.len(), "{} vs {} bytes", br.bytes.len(), plain.bytes.len());
    let mut text = Vec::new();
    brotli::Decompressor::new(&br.bytes[..], 4096).read_to_end(&mut text).expect("brotli");
    assert!(text == plain.bytes, "the brotli copy is the same script");
    let gzip = s.send(s.get(path).header("accept-encoding", "gzip")).await;
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(&gzip.bytes[..]).read_to_end(&mut text).expect("gzip");
    assert!(text == plain.bytes, "the gzip copy is the same script");

    // A tag per coding (RFC 9110 §8.8.3): a cache holding one is never told another is
    // the same.
    let etag = br.header("etag").expect("an ETag").to_owned();
    let plain_tag = plain.header("etag").expect("an ETag");
    assert_eq!(etag, format!("{}-br\"", plain_tag.trim_end_matches('"')));
    let again = s.send(s.get(path).header("if-none-match", etag.as_str()).header("accept-encoding", "br")).await;
    assert_eq!((again.status, again.bytes.len()), (304, 0));
    let other_coding = s.send(s.get(path).header("if-none-match", etag.as_str())).await;
    assert_eq!(other_coding.status, 200, "the brotli tag does not validate the plain script");
    // The configured page: this API's document.
    let init = s.send(s.get("/docs/swagger-initializer.js").header("accept-encoding", "gzip")).await;
    let mut text = String::new();
    flate2::read::GzDecoder::new(&init.bytes[..]).read_to_string(&mut text).expect("gzip");
    assert!(text.contains("/openapi.json"), "{text}");
    // Images are compressed already: sent as they are.
    let icon = s.send(s.get("/docs/favicon-32x32.png").header("accept-encoding", "gzip, br")).await;
    assert_eq!((icon.status, icon.header("content-encoding")), (200, None));
    assert_eq!(icon.header("content-type"), Some("image/png"));
    // What is not an asset is the JSON 404, and is not kept.
    s.send(s.get("/docs/no-such-file.js")).await.assert_error(404, "not found");
    s.send(s.get("/docs/%2e%2e/Cargo.toml")).await.assert_error(404, "not found");
}

#[tokio::test]
async fn the_api_page_can_be_turned_off() {
    let mut off = doc_settings();
    off.docs_enabled = false;
    let s = server(off).await;
    s.send(s.get("/docs/")).await.assert_error(404, "not found");
    // The document itself stays.
    assert_eq!(s.send(s.get("/openapi.json")).await.status, 200);
}

#[tokio::test]
async fn the_served_document_lists_exactly_the_routes_that_router_serves() {
    // No NETS_CORE_OPENAPI_MODULES: the router built from one module documents only it,
    // although `crate::api` is registered in this binary too.
    let routes = build_urlpatterns!(crate::undocumented).expect("routes");
    let s = TestServer::start(app(Settings::default()).routes(routes).build().expect("app").router()).await;
    let doc = s.send(s.get("/openapi.json")).await.json;
    let paths: Vec<&str> = doc["paths"].as_object().expect("paths").keys().map(String::as_str).collect();
    assert_eq!(paths, ["/internal/health/", "/openapi.json"]);
    s.send(s.get("/invoices/")).await.assert_error(404, "not found");
}

/// The document served by an app that mounts the OAuth and account routers and adds
/// their operations, with usernames as the identifier and `nickname` updatable.
async fn document_with_builtins() -> Value {
    use nets_runtime::accounts::Accounts;
    use nets_runtime::cache::Cache;
    use nets_runtime::oauth::OAuth;
    use nets_runtime::users::UserTable;

    let db = nets_tests::db::test_db().await;
    nets_tests::db::exec(&db.db, "ALTER TABLE nets_user ADD COLUMN nickname VARCHAR(40)").await;
    let settings = settings(
        "SECRET_KEY = 'openapi-xxxxxxxxxxxxxxxxxxxxxxxx'\nNETS_CORE_USER_IDENTIFIER = 'username'\n\
         NETS_CORE_USER_UPDATABLE_FIELDS = ['first_name', 'nickname']\nNETS_CORE_OPENAPI_MODULES = ['openapi::api']",
    );
    let oauth = OAuth::from_settings(&settings, &db.db).await.expect("oauth");
    let users = UserTable::load(&db.db, &settings).await.expect("user table");
    let accounts = Accounts::new(oauth.clone(), users, Cache::memory(10), &settings).expect("accounts");
    let app = nets_runtime::App::builder(settings).database(db.db.clone());
    let routes = build_urlpatterns!(crate::api).expect("routes");
    let s = TestServer::start(
        app.install(oauth.clone()).install(accounts.clone()).routes(routes).build().expect("app").router(),
    )
    .await;
    let reply = s.send(s.get("/openapi.json")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json
}

#[tokio::test]
async fn the_built_in_routers_are_documented_when_added() {
    let doc = document_with_builtins().await;
    let problems = problems(&oas_validator(), &doc);
    assert!(problems.is_empty(), "not a valid OpenAPI 3.1 document:\n{}", problems.join("\n"));
    for (path, method) in [
        ("/login/", "post"),
        ("/authenticate/", "post"),
        ("/logout/", "post"),
        ("/getProfile/", "get"),
        ("/getProfile/", "post"),
        ("/update/", "post"),
        ("/requestDelete/", "get"),
        ("/delete/", "post"),
        ("/o/token/", "post"),
        ("/o/revoke_token/", "post"),
        // The generated operations are still there.
        ("/invoices/", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} is not documented");
    }
    // From the registry, with the operation ids and tag the hand-written fragment had.
    assert_eq!(operation(&doc, "/getProfile/", "get")["operationId"], "getProfile_get");
    assert_eq!(operation(&doc, "/login/", "post")["operationId"], "login_post");
    assert_eq!(operation(&doc, "/login/", "post")["tags"], json!(["nets_core_auth"]));
    assert_eq!(operation(&doc, "/login/", "post")["x-nets-view"], "nets_runtime::accounts::endpoints::login");
    // Secrets travel in the body only, and a wrong method is documented as the JSON 405.
    assert!(operation(&doc, "/authenticate/", "post")["responses"]["405"].is_object());
    // This app's identifier and updatable fields.
    let login = body_schema(&doc, "/login/", "post");
    assert_eq!(login["required"], json!(["username"]));
    // Required strings reject "" (issue 17, item 12), and say so; the identifier is
    // described as this app takes it, and /getProfile/ lists the fields it shows.
    assert_eq!(login["properties"]["username"]["minLength"], 1, "{login}");
    assert_eq!(login["properties"]["username"]["maxLength"], 150, "{login}");
    let fields = operation(&doc, "/getProfile/", "get")["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "fields").cloned())
        .expect("fields");
    let names = &fields["schema"]["items"]["enum"];
    assert!(
        names.as_array().is_some_and(|n| n.contains(&json!("first_name")) && n.contains(&json!("__all__"))),
        "{fields}"
    );
    assert!(login["properties"]["email"].is_object(), "username logins take an address: {login}");
    let update = body_schema(&doc, "/update/", "post");
    let names: Vec<&String> = update["properties"].as_object().expect("properties").keys().collect();
    assert_eq!(names, ["first_name", "nickname"]);
    // Other keys are ignored, not refused (a client may post its whole profile back).
    assert_eq!(update["additionalProperties"], Value::Null);
    // Private operations need the bearer token; login and the token endpoint do not.
    assert_eq!(operation(&doc, "/getProfile/", "get")["security"], json!([{"bearerAuth": []}]));
    assert_eq!(operation(&doc, "/update/", "post")["security"], json!([{"bearerAuth": []}]));
    assert!(operation(&doc, "/login/", "post")["security"].is_null());
    assert_eq!(doc["components"]["securitySchemes"]["oauthClientBasic"]["scheme"], "basic");
    let token = &operation(&doc, "/o/token/", "post")["requestBody"]["content"];
    assert!(token["application/x-www-form-urlencoded"]["schema"]["properties"]["refresh_token"].is_object());
    // The OAuth endpoints come from the registry too (`openapi = ..` gives them form
    // bodies and RFC 6749 answers instead of the envelope).
    let token = operation(&doc, "/o/token/", "post");
    assert_eq!(token["x-nets-view"], "nets_runtime::oauth::endpoints::token");
    assert_eq!(token["operationId"], "oauth_token_post");
    assert_eq!(token["security"], json!([{"oauthClientBasic": []}, {}]));
    assert_eq!(token["requestBody"]["content"].as_object().map(|c| c.len()), Some(1), "form only: {token}");
    let answer = &token["responses"]["200"]["content"]["application/json"]["schema"];
    assert!(answer["properties"]["access_token"].is_object() && answer["properties"]["res"].is_null(), "{answer}");
    let revoke = operation(&doc, "/o/revoke_token/", "post");
    let error = &revoke["responses"]["400"]["content"]["application/json"]["schema"];
    assert_eq!(*error, json!({"$ref": "#/components/schemas/OAuthError"}), "one schema for RFC 6749 errors");
    assert_eq!(resolved(&doc, error)["required"], json!(["error", "error_description"]));
    // The generated bodies `openapi = ..` replaced leave no component behind.
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    assert!(!schemas.contains_key("oauth_token_post_body"), "{:?}", schemas.keys().collect::<Vec<_>>());
    assert!(schemas.contains_key("login_post_body"), "{:?}", schemas.keys().collect::<Vec<_>>());
    // Every schema in the added operations is valid JSON Schema 2020-12.
    for (at, schema) in schema_objects(&doc) {
        if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
            panic!("{at} is not a valid JSON Schema 2020-12: {e}\n{schema}");
        }
    }
}

#[tokio::test]
async fn without_documents_only_registered_endpoints_are_listed() {
    let s = server(doc_settings()).await;
    let doc = s.send(s.get("/openapi.json")).await.json;
    assert!(doc["paths"]["/login/"].is_null() && doc["paths"]["/o/token/"].is_null());
}

/// Issue 18: the document is revalidated with its ETag (304, no body) and sent brotli-
/// or gzip-compressed to clients that accept it; every form is the same document.
#[tokio::test]
async fn the_document_is_revalidated_by_etag_and_sent_gzipped() {
    use std::io::Read;
    let s = server(doc_settings()).await;
    let plain = s.send(s.get("/openapi.json")).await;
    assert_eq!(plain.status, 200);
    let etag = plain.header("etag").expect("an ETag").to_owned();
    assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");
    assert_eq!(plain.header("cache-control"), Some("no-cache"));
    assert_eq!(plain.header("content-encoding"), None);

    let again = s.send(s.get("/openapi.json").header("if-none-match", etag.as_str())).await;
    assert_eq!((again.status, again.bytes.len()), (304, 0));
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let stale = s.send(s.get("/openapi.json").header("if-none-match", "\"other\"")).await;
    assert_eq!(stale.status, 200);

    // Brotli when accepted (the smaller: 4.3 vs 5.9 KB for the benchmark's document).
    let brotli = s.send(s.get("/openapi.json").header("accept-encoding", "gzip, br")).await;
    assert_eq!(brotli.header("content-encoding"), Some("br"));
    assert_eq!(brotli.header("vary"), Some("accept-encoding, authorization"));
    let mut text = Vec::new();
    brotli::Decompressor::new(&brotli.bytes[..], 4096).read_to_end(&mut text).expect("brotli");
    assert_eq!(text, plain.bytes);
    let zipped = s.send(s.get("/openapi.json").header("accept-encoding", "gzip, deflate")).await;
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert!(zipped.bytes.len() * 4 < plain.bytes.len(), "{} vs {} bytes", zipped.bytes.len(), plain.bytes.len());
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(&zipped.bytes[..]).read_to_end(&mut text).expect("gzip");
    assert_eq!(text, plain.bytes);
    let gzip_tag = zipped.header("etag").expect("an ETag");
    assert_eq!(gzip_tag, format!("{}-gzip\"", etag.trim_end_matches('"')));
    let gzip_again =
        s.send(s.get("/openapi.json").header("accept-encoding", "gzip").header("if-none-match", gzip_tag)).await;
    assert_eq!((gzip_again.status, gzip_again.header("etag")), (304, Some(gzip_tag)));
    let plain_tag_for_gzip =
        s.send(s.get("/openapi.json").header("accept-encoding", "gzip").header("if-none-match", etag.as_str())).await;
    assert_eq!(plain_tag_for_gzip.status, 200, "the identity tag does not validate the gzip form");
    let refused = s.send(s.get("/openapi.json").header("accept-encoding", "gzip;q=0")).await;
    assert_eq!((refused.header("content-encoding"), refused.bytes.len()), (None, plain.bytes.len()));
}

/// `/openapi.json` is served outside nets' middleware: a panic while its document is
/// built is still the JSON 500 with the security headers and a request id, never a
/// dropped connection, and the server goes on serving.
#[tokio::test]
async fn a_panic_while_building_the_document_is_a_json_500() {
    let routes = build_urlpatterns!(crate::panicking).expect("routes");
    let s = TestServer::start(app(settings("")).routes(routes).build().expect("app").router()).await;
    for _ in 0..2 {
        let reply = s.send(s.get("/openapi.json")).await;
        reply.assert_error(500, "internal server error");
        assert_eq!(reply.header("x-frame-options"), Some("DENY"));
        assert_eq!(reply.header("x-request-id").map(str::len), Some(32));
    }
    s.send(s.get("/panicking/")).await.assert_data(json!("served"));
}
