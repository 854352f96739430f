//! Route table conflicts are startup errors naming both declarations: two endpoints on
//! one path and method, two endpoints with one name, and one path shape with different
//! parameter names. Each case lives in its own module and is built with a module filter
//! so that the others do not interfere.

use nets_runtime::build_urlpatterns;
use nets_runtime::routing::RoutingError;
use nets_runtime::{RouteInfo, route_registry};
use nets_tests::{TestServer, app};
use serde_json::json;

/// Same path and method twice.
mod same_route {
    use nets_runtime::prelude::*;

    #[request_handler(path = "dup/same/", method = GET, public)]
    pub async fn first_same() -> ApiResult<u8> {
        Ok(1)
    }

    #[request_handler(path = "dup/same/", method = GET, public)]
    pub async fn second_same() -> ApiResult<u8> {
        Ok(2)
    }
}

/// One method in common, and one of the paths without its trailing slash.
mod overlapping_methods {
    use nets_runtime::prelude::*;

    #[request_handler(path = "dup/overlap/", methods = [GET, POST], public)]
    pub async fn first_overlap() -> ApiResult<u8> {
        Ok(1)
    }

    #[request_handler(path = "dup/overlap", methods = [PUT, POST], public)]
    pub async fn second_overlap() -> ApiResult<u8> {
        Ok(2)
    }
}

/// An endpoint without methods takes every method, so it clashes with any other.
mod every_method {
    use nets_runtime::prelude::*;

    #[request_handler(path = "dup/every/", public)]
    pub async fn first_every() -> ApiResult<u8> {
        Ok(1)
    }

    #[request_handler(path = "dup/every/", method = DELETE, public)]
    pub async fn second_every() -> ApiResult<u8> {
        Ok(2)
    }
}

/// One function name in two modules: the default route name is the function name.
mod same_name {
    pub mod one {
        use nets_runtime::prelude::*;

        #[request_handler(path = "dup/name/one/", method = GET, public)]
        pub async fn handler() -> ApiResult<u8> {
            Ok(1)
        }
    }

    pub mod two {
        use nets_runtime::prelude::*;

        #[request_handler(path = "dup/name/two/", method = GET, public)]
        pub async fn handler() -> ApiResult<u8> {
            Ok(2)
        }
    }
}

/// An explicit `name` equal to another endpoint's.
mod explicit_name {
    use nets_runtime::prelude::*;

    #[request_handler(path = "dup/explicit/a/", method = GET, public, name = "explicit")]
    pub async fn explicit_a() -> ApiResult<u8> {
        Ok(1)
    }

    #[request_handler(path = "dup/explicit/b/", method = GET, public, name = "explicit")]
    pub async fn explicit_b() -> ApiResult<u8> {
        Ok(2)
    }
}

/// `{id}` and `{pk}` in the same place: requests cannot tell them apart.
mod conflicting_params {
    use nets_runtime::prelude::*;

    #[request_handler(path = "dup/params/{id}/", method = GET, public)]
    pub async fn by_id(id: i64) -> ApiResult<i64> {
        Ok(id)
    }

    #[request_handler(path = "dup/params/{pk}/", method = POST, public)]
    pub async fn by_pk(pk: i64) -> ApiResult<i64> {
        Ok(pk)
    }
}

/// No conflict: one path, different methods, different handlers.
mod split_by_method {
    use nets_runtime::prelude::*;

    #[request_handler(path = "dup/split/", method = GET, public)]
    pub async fn split_read() -> ApiResult<&'static str> {
        Ok("read")
    }

    #[request_handler(path = "dup/split", method = POST, public)]
    pub async fn split_write() -> ApiResult<&'static str> {
        Ok("write")
    }
}

/// An application route on the path of the built-in `/openapi.json` (another method).
mod builtin_clash {
    use nets_runtime::prelude::*;

    #[request_handler(path = "openapi.json", method = POST, public)]
    pub async fn upload_spec() -> ApiResult<&'static str> {
        Ok("stored")
    }
}

/// The registry entry of the handler function `view` in module `module` (relative to this binary).
fn route(module: &str, view: &str) -> RouteInfo {
    let module = format!("duplicates::{module}");
    route_registry()
        .into_iter()
        .find(|r| r.module == module && r.view_name == view)
        .unwrap_or_else(|| panic!("{module}::{view} is registered"))
}

/// `file:line (module::function)`, as conflicts name a declaration. Also checks that the
/// line really is that handler's declaration in this file.
fn location(module: &str, view: &str) -> String {
    let r = route(module, view);
    assert!(r.file.ends_with("tests/duplicates.rs"), "{}", r.file);
    let lines: Vec<&str> = include_str!("duplicates.rs").lines().collect();
    let at = r.line as usize - 1;
    let (attribute, function) = ("#[request_handler(", format!("fn {view}("));
    let around = lines[at.saturating_sub(1)..(at + 2).min(lines.len())].join("\n");
    assert!(
        (lines[at].contains(attribute) || lines[at].contains(&function))
            && around.contains(attribute)
            && around.contains(&function),
        "line {} of {} is not the declaration of {view}: {:?}",
        r.line,
        r.file,
        lines[at]
    );
    format!("{}:{} ({}::{})", r.file, r.line, r.module, r.view_name)
}

#[test]
fn the_same_path_and_method_twice_is_a_duplicate_route() {
    let err = build_urlpatterns!(crate::same_route).expect_err("duplicate route");
    let (first, second) = (location("same_route", "first_same"), location("same_route", "second_same"));
    assert_eq!(
        err,
        RoutingError::DuplicateRoute {
            method: "GET",
            path: "/dup/same/".into(),
            first: first.clone(),
            second: second.clone()
        }
    );
    assert_eq!(err.to_string(), format!("duplicate route GET /dup/same/: declared at {first} and at {second}"));
}

#[test]
fn a_shared_method_on_the_same_path_is_a_duplicate_route_whatever_the_trailing_slash() {
    let err = build_urlpatterns!(crate::overlapping_methods).expect_err("duplicate route");
    let first = location("overlapping_methods", "first_overlap");
    let second = location("overlapping_methods", "second_overlap");
    assert_eq!(err, RoutingError::DuplicateRoute { method: "POST", path: "/dup/overlap".into(), first, second });
}

#[test]
fn an_endpoint_without_methods_clashes_with_any_method_on_its_path() {
    let err = build_urlpatterns!(crate::every_method).expect_err("duplicate route");
    let first = location("every_method", "first_every");
    let second = location("every_method", "second_every");
    assert_eq!(err, RoutingError::DuplicateRoute { method: "DELETE", path: "/dup/every/".into(), first, second });
}

#[test]
fn the_same_function_name_in_two_modules_is_a_duplicate_name() {
    let err = build_urlpatterns!(crate::same_name).expect_err("duplicate name");
    let (first, second) = (location("same_name::one", "handler"), location("same_name::two", "handler"));
    assert_eq!(err, RoutingError::DuplicateName { name: "handler", first: first.clone(), second: second.clone() });
    assert_eq!(err.to_string(), format!("duplicate route name 'handler': declared at {first} and at {second}"));
    // Each module alone is fine.
    assert!(build_urlpatterns!(crate::same_name::one).is_ok());
    assert!(build_urlpatterns!(crate::same_name::two).is_ok());
}

#[test]
fn an_explicit_name_used_twice_is_a_duplicate_name() {
    let err = build_urlpatterns!(crate::explicit_name).expect_err("duplicate name");
    let first = location("explicit_name", "explicit_a");
    let second = location("explicit_name", "explicit_b");
    assert_eq!(err, RoutingError::DuplicateName { name: "explicit", first, second });
}

#[test]
fn different_parameter_names_in_one_path_shape_conflict() {
    let err = build_urlpatterns!(crate::conflicting_params).expect_err("conflicting params");
    let first = location("conflicting_params", "by_id");
    let second = location("conflicting_params", "by_pk");
    assert_eq!(
        err,
        RoutingError::ConflictingParams {
            first_path: "/dup/params/{id}/".into(),
            first: first.clone(),
            second_path: "/dup/params/{pk}/".into(),
            second: second.clone(),
        }
    );
    assert_eq!(
        err.to_string(),
        format!(
            "conflicting routes /dup/params/{{id}}/ ({first}) and /dup/params/{{pk}}/ ({second}): same path with different parameter names"
        )
    );
}

#[test]
fn building_every_route_of_the_program_reports_the_first_conflict() {
    // `same_route` is declared first in this file, so its conflict is the first found.
    let err = build_urlpatterns!().expect_err("the program has conflicts");
    assert!(matches!(err, RoutingError::DuplicateRoute { method: "GET", .. }), "{err}");
    // Several modules at once are checked together.
    let err = build_urlpatterns!(crate::split_by_method, crate::conflicting_params).expect_err("conflict");
    assert!(matches!(err, RoutingError::ConflictingParams { .. }), "{err}");
}

#[tokio::test]
async fn one_path_with_different_methods_is_not_a_conflict() {
    let routes = build_urlpatterns!(crate::split_by_method).expect("no conflict");
    let s = TestServer::start(app(Default::default()).routes(routes).build().expect("app").router()).await;
    s.send(s.get("/dup/split/")).await.assert_data(json!("read"));
    s.send(s.post("/dup/split")).await.assert_data(json!("write"));
    s.send(s.post("/dup/split/")).await.assert_data(json!("write"));
    let reply = s.send(s.request(reqwest::Method::PUT, "/dup/split/")).await;
    reply.assert_error(405, "method not allowed");
    assert_eq!(reply.header("allow"), Some("GET, POST, HEAD"));
}

#[test]
fn an_app_route_on_the_builtin_openapi_path_is_a_startup_error() {
    let err = build_urlpatterns!(crate::builtin_clash).expect_err("/openapi.json is nets' own");
    assert!(matches!(&err, RoutingError::Reserved { path, .. } if path == "/openapi.json"), "{err}");
    let message = err.to_string();
    assert!(message.contains("reserved for nets' built-in OpenAPI document"), "{message}");
    assert!(message.contains(file!()), "the error names the declaration: {message}");
}
