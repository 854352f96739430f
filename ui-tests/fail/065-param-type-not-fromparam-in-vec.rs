// A type without FromParam inside `Vec<..>`: one error, on the whole argument type.
use nets_runtime::prelude::*;

struct Colour(u32);

#[request_handler(path = "paint/", public)]
async fn paint(shades: Vec<Colour>) -> ApiResult<u32> {
    Ok(shades.iter().map(|c| c.0).sum())
}

fn main() {}
