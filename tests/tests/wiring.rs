//! Wiring is checked before serving: `AppBuilder::build` refuses an app whose endpoints
//! lack what they need, naming each endpoint and the missing piece, instead of a 500 at
//! request time. Route sets from several `build_urlpatterns!` calls merge without a
//! panic, and arguments are recognised by their type (a type alias of `Ctx` works).

use nets_runtime::prelude::*;
use nets_runtime::routing::RoutingError;
use nets_runtime::{BuildError, build_urlpatterns};
use nets_tests::{TestServer, USER_TOKEN, bearer, settings};
use serde_json::json;

/// An endpoint reading application state.
mod greeter {
    use nets_runtime::prelude::*;

    #[derive(Clone)]
    pub struct Greeting(pub &'static str);

    #[request_handler(path = "wiring/greet/", method = GET, public)]
    pub async fn greet(greeting: State<Greeting>, name: String) -> ApiResult<String> {
        Ok(format!("{} {name}", greeting.0.0))
    }
}

/// A private endpoint, through a type alias of the context.
mod private {
    use nets_runtime::prelude::*;

    /// Spelled differently: recognised by its type, not its name.
    pub type Context = Ctx;

    #[request_handler(path = "wiring/me/", method = GET)]
    pub async fn me(context: Context) -> ApiResult<i64> {
        Ok(context.require_user()?.id)
    }
}

/// A derived model, loaded from the database.
mod stored {
    use nets_runtime::prelude::*;

    #[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, NetsModel)]
    #[nets(table = "wiring_things", json_fields(id), index = "id")]
    pub struct Thing {
        pub id: i64,
    }

    /// An alias of the model is the model too.
    pub type Item = Thing;

    #[request_handler(path = "wiring/things/{id}/", method = GET, model = Thing, public, public_objects)]
    pub async fn thing(item: Item) -> ApiResult<i64> {
        Ok(item.id)
    }
}

/// Two sets to merge, and one that claims a route of the first.
mod first {
    use nets_runtime::prelude::*;

    #[request_handler(path = "wiring/one/", method = GET, public)]
    pub async fn one() -> ApiResult<u8> {
        Ok(1)
    }
}
mod second {
    use nets_runtime::prelude::*;

    #[request_handler(path = "wiring/two/", method = GET, public)]
    pub async fn two() -> ApiResult<u8> {
        Ok(2)
    }
}
mod clash {
    use nets_runtime::prelude::*;

    #[request_handler(path = "wiring/one/", method = GET, public)]
    pub async fn one_again() -> ApiResult<u8> {
        Ok(3)
    }
}

/// Two arguments taking the request's headers.
mod headers_twice {
    use axum::http::HeaderMap;
    use nets_runtime::prelude::*;

    #[request_handler(path = "wiring/headers/", method = GET, public)]
    pub async fn headers(first: HeaderMap, second: HeaderMap) -> ApiResult<usize> {
        Ok(first.len() + second.len())
    }
}

fn wiring_error(result: Result<App, BuildError>) -> String {
    match result {
        Err(BuildError::Wiring(problems)) => problems.to_string(),
        Err(other) => panic!("expected a wiring error, got {other}"),
        Ok(_) => panic!("expected a wiring error, the app was built"),
    }
}

#[test]
fn missing_state_fails_build_naming_the_endpoint_and_the_type() {
    let routes = build_urlpatterns!(self::greeter).expect("routes");
    let text = wiring_error(App::builder(settings("")).routes(routes.clone()).build());
    assert!(text.contains("endpoint `greet`"), "{text}");
    assert!(text.contains("wiring::greeter::Greeting"), "{text}");
    assert!(text.contains("tests/tests/wiring.rs"), "the declaration is located: {text}");
    let app = App::builder(settings("")).state(greeter::Greeting("hi")).routes(routes).build();
    assert!(app.is_ok());
}

#[test]
fn a_private_endpoint_needs_an_authenticator() {
    let routes = build_urlpatterns!(self::private).expect("routes");
    let text = wiring_error(App::builder(settings("")).routes(routes.clone()).build());
    assert!(text.contains("endpoint `me`") && text.contains("an authenticator"), "{text}");
    assert!(App::builder(settings("")).authenticator(bearer()).routes(routes).build().is_ok());
}

#[test]
fn a_derived_model_needs_a_database_and_every_problem_is_listed() {
    let routes = build_urlpatterns!(self::stored, self::private, self::greeter).expect("routes");
    let text = wiring_error(App::builder(settings("")).routes(routes).build());
    assert!(text.starts_with("the app is missing 3 piece(s) of wiring:"), "{text}");
    assert!(text.contains("endpoint `thing`") && text.contains("a database for its model"), "{text}");
    assert_eq!(text.lines().count(), 4, "one line per problem: {text}");
}

#[tokio::test]
async fn a_type_alias_of_the_context_and_of_the_model_work() {
    let db = nets_tests::db::test_db().await;
    nets_tests::db::exec(&db.db, "CREATE TABLE wiring_things (id BIGINT PRIMARY KEY)").await;
    nets_tests::db::exec(&db.db, "INSERT INTO wiring_things (id) VALUES (7)").await;
    let routes = build_urlpatterns!(self::private, self::stored).expect("routes");
    let app = nets_tests::db::app_builder_with(&db).authenticator(bearer()).routes(routes).build().expect("app");
    let s = TestServer::start(app.router()).await;
    s.send(s.get("/wiring/me/").bearer_auth(USER_TOKEN)).await.assert_data(json!(1));
    s.send(s.get("/wiring/me/")).await.assert_error(401, "authentication required");
    s.send(s.get("/wiring/things/7/")).await.assert_data(json!(7));
    // Neither the context nor the model is a parameter: not documented as one.
    let doc = s.send(s.get("/openapi.json")).await.json;
    let me = &doc["paths"]["/wiring/me/"]["get"];
    assert!(me["parameters"].is_null(), "{me}");
    let thing = &doc["paths"]["/wiring/things/{id}/"]["get"]["parameters"];
    assert_eq!(thing.as_array().map(Vec::len), Some(1), "only the path's id: {thing}");
}

#[tokio::test]
async fn route_sets_merge_and_a_clash_between_them_is_an_error_not_a_panic() {
    let one = build_urlpatterns!(self::first).expect("routes");
    let two = build_urlpatterns!(self::second).expect("routes");
    // The same set twice is served once; two sets are both served and documented.
    let merged = one.clone().merge(two).merge(one.clone());
    assert_eq!(merged.endpoints().count(), 2);
    let app = App::builder(settings("")).routes(merged).build().expect("app");
    let s = TestServer::start(app.router()).await;
    s.send(s.get("/wiring/one/")).await.assert_data(json!(1));
    s.send(s.get("/wiring/two/")).await.assert_data(json!(2));
    let doc = s.send(s.get("/openapi.json")).await.json;
    assert!(doc["paths"]["/wiring/one/"].is_object() && doc["paths"]["/wiring/two/"].is_object(), "{doc}");

    let clash = build_urlpatterns!(self::clash).expect("routes");
    match App::builder(settings("")).routes(one).routes(clash).build() {
        Err(BuildError::Routing(RoutingError::DuplicateRoute { path, .. })) => assert_eq!(path, "/wiring/one/"),
        Err(other) => panic!("expected a duplicate route, got {other}"),
        Ok(_) => panic!("a clash between merged sets must not build"),
    }
}

#[test]
fn the_headers_are_taken_once() {
    let routes = build_urlpatterns!(self::headers_twice).expect("routes");
    let text = wiring_error(App::builder(settings("")).routes(routes).build());
    assert!(text.contains("one `HeaderMap` argument, not 2 (`first`, `second`)"), "{text}");
}
