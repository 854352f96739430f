// A WebSocket endpoint (a `WebSocketUpgrade` argument) declared for POST: the upgrade is
// a GET. The macro knows the argument by its name; these fixtures build the lean
// runtime (no `realtime` feature), so a stand-in of that name plays the part.
use nets_runtime::prelude::*;

struct WebSocketUpgrade;

#[request_handler(path = "ws/chat/", methods = [GET, POST])]
async fn chat(ws: WebSocketUpgrade) -> ApiResult<()> {
    let _ = ws;
    Ok(())
}

fn main() {}
