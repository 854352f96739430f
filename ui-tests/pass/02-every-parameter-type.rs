// Every built-in parameter type, and every `#[param(..)]` option except `body`.
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use nets_runtime::prelude::*;
use serde_json::{Map, Value};
use uuid::Uuid;
use validator::ValidationError;

fn even(value: &i64) -> Result<(), ValidationError> {
    if value % 2 == 0 { Ok(()) } else { Err(ValidationError::new("even")) }
}

fn known_user(value: &String, ctx: &Ctx) -> Result<(), ValidationError> {
    let _ = (value, ctx.user());
    Ok(())
}

#[request_handler(path = "everything/{id}/", methods = [GET, POST], public)]
#[allow(clippy::too_many_arguments)]
async fn everything(
    id: i64,
    #[param(validate(length(min = 1, max = 40)), description = "Display name")] name: String,
    #[param(rename = "type")] kind: Option<String>,
    small: Option<i8>,
    short: Option<i16>,
    medium: Option<i32>,
    size: Option<isize>,
    byte: Option<u8>,
    word: Option<u16>,
    #[param(validate(range(min = 1, max = 100)))] count: Option<u32>,
    big: Option<u64>,
    #[param(validate(range(exclusive_min = 0, exclusive_max = 10)))] index: Option<usize>,
    #[param(default = 0.5, validate(range(min = 0.0, max = 1.0)))] ratio: f64,
    single: Option<f32>,
    #[param(default = false)] active: bool,
    #[param(default = Vec::new(), validate(length(max = 5)))] tags: Vec<String>,
    numbers: Option<Vec<i64>>,
    #[param(default = Value::Null)] meta: Value,
    settings: Option<Map<String, Value>>,
    born: Option<NaiveDate>,
    at: Option<DateTime<Utc>>,
    local: Option<DateTime<FixedOffset>>,
    email: Option<Email>,
    #[param(validate(email))] contact: Option<String>,
    #[param(validate(url))] homepage: Option<String>,
    #[param(validate(regex = "^[A-Z]{2}$"))] country: Option<String>,
    #[param(validate(custom(function = even)))] page: Option<i64>,
    #[param(validate(custom(function = known_user, use_ctx)))] owner: Option<String>,
    token: Option<Uuid>,
    #[param(filetypes = ["image/png", "image/jpeg"])] avatar: Option<UploadedFile>,
) -> ApiResult<Value> {
    let _ = (id, name, kind, small, short, medium, size, byte, word, count, big, index, ratio, single);
    let _ = (active, tags, numbers, meta, settings, born, at, local, email, contact, homepage, country);
    let _ = (page, owner, token, avatar.map(|f| f.len()));
    Ok(Value::Null)
}

fn main() {
    let doc = serde_json::to_value(nets_runtime::build_openapi(&Settings::default())).unwrap();
    let text = doc.to_string();
    for name in ["\"name\"", "\"type\"", "\"ratio\"", "\"avatar\"", "\"owner\""] {
        assert!(text.contains(name), "{name} missing from {text}");
    }
    let _ = nets_runtime::build_urlpatterns!().expect("no route conflicts");
}
