// `public` with `model = ..` would hand every object to anyone, unless the author says
// the objects are public.
use nets_runtime::prelude::*;

#[derive(serde::Serialize)]
struct Note {
    id: i64,
}

impl NetsModel for Note {
    const TABLE: &'static str = "notes";
    async fn find_by_index(_ctx: &Ctx, _field: &str, _value: &str) -> Result<Option<Self>, ApiError> {
        Ok(None)
    }
}
nets_runtime::model_argument!(Note);

#[request_handler(path = "notes/{id}/", method = GET, public, model = Note)]
async fn show_note(note: Note) -> ApiResult<Note> {
    Ok(note)
}

fn main() {}
