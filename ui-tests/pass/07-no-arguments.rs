// A handler without arguments, without a `path` (it defaults to the function name) and
// with a unit return.
use nets_runtime::prelude::*;

#[request_handler(public)]
async fn ping() {}

fn main() {
    let routes = nets_runtime::route_registry();
    assert_eq!(routes[0].path, "/ping");
    assert!(routes[0].methods.is_empty());
}
