// A parameter type without FromParam: the error points at the type.
use nets_runtime::prelude::*;

struct Colour(u32);

#[request_handler(path = "paint/", public)]
async fn paint(colour: Colour) -> ApiResult<u32> {
    Ok(colour.0)
}

fn main() {}
