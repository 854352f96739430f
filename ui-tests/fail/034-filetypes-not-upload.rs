// `filetypes` on a parameter that is not an UploadedFile.
use nets_runtime::prelude::*;

#[request_handler(path = "avatar/", method = POST, public)]
async fn upload_avatar(#[param(filetypes = ["image/png"])] image: String) -> ApiResult<usize> {
    Ok(image.len())
}

fn main() {}
