// A type without FromParam inside `Option<..>`: one error, at the inner type.
use nets_runtime::prelude::*;

struct Colour(u32);

#[request_handler(path = "paint/", public)]
async fn paint(colour: Option<Colour>) -> ApiResult<u32> {
    Ok(colour.map_or(0, |c| c.0))
}

fn main() {}
