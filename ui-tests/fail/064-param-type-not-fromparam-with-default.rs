// A type without FromParam behind `default = ..`: still one error, at the type.
use nets_runtime::prelude::*;

struct Colour(u32);

#[request_handler(path = "paint/", public)]
async fn paint(#[param(default = Colour(0))] colour: Colour) -> ApiResult<u32> {
    Ok(colour.0)
}

fn main() {}
