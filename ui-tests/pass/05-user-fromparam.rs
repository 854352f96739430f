// A user type implementing `FromParam` is a parameter like any other.
use nets_runtime::params::{CoerceCx, CoerceError, FromParam, ParamSchema, Raw};
use nets_runtime::prelude::*;

/// A hex colour such as `#ff8800`.
struct Colour(u32);

impl FromParam for Colour {
    const TYPE_NAME: &'static str = "a colour like #ff8800";

    fn from_param(raw: Raw, _cx: &CoerceCx) -> Result<Self, CoerceError> {
        let text = raw.as_str().and_then(|s| s.strip_prefix('#'));
        match text.and_then(|hex| u32::from_str_radix(hex, 16).ok()) {
            Some(v) => Ok(Colour(v)),
            None => Err(CoerceError::expected(Self::TYPE_NAME, &raw)),
        }
    }

    fn schema() -> ParamSchema {
        ParamSchema::string().with_pattern("^#[0-9a-fA-F]{6}$")
    }
}

#[request_handler(path = "paint/", method = POST, public)]
async fn paint(colour: Colour, border: Option<Colour>, shades: Vec<Colour>) -> ApiResult<u32> {
    Ok(colour.0 + border.map_or(0, |c| c.0) + shades.len() as u32)
}

fn main() {
    let doc = serde_json::to_value(nets_runtime::build_openapi(&Settings::default())).unwrap();
    assert!(doc.to_string().contains("^#[0-9a-fA-F]{6}$"), "{doc}");
}
