// A WebSocket endpoint with no `method`: every method would reach it, and only a GET
// can be upgraded. The macro knows the argument by its name; these fixtures build the
// lean runtime (no `realtime` feature), so a stand-in of that name plays the part.
use nets_runtime::prelude::*;

struct WebSocketUpgrade;

#[request_handler(path = "ws/chat/")]
async fn chat(ws: WebSocketUpgrade) -> ApiResult<()> {
    let _ = ws;
    Ok(())
}

fn main() {}
