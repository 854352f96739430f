//! Uploaded files saved through `UploadedFile::save` into `LocalStorage`: dated paths,
//! sanitised client names, no overwrites, nothing outside `MEDIA_ROOT`.

use nets_runtime::build_urlpatterns;
use nets_tests::{PNG_BYTES, TestServer, app, settings};
use reqwest::multipart::{Form, Part};
use serde_json::json;

mod api {
    use nets_runtime::prelude::*;
    use nets_runtime::uploads::LocalStorage;

    #[request_handler(path = "avatars/", method = POST, public)]
    async fn store_avatar(ctx: Ctx, #[param(filetypes = ["image/png"])] image: UploadedFile) -> ApiResult<String> {
        let storage = LocalStorage::new(&ctx.settings().media_root);
        let stored = image.save(&storage, "Avatar", None).await?;
        Ok(stored.to_string_lossy().into_owned())
    }
}

#[tokio::test]
async fn uploads_land_under_the_media_root_with_safe_names() {
    let root = std::env::temp_dir().join(format!("nets-media-{}", uuid::Uuid::new_v4()));
    let config = format!("MEDIA_ROOT = '{}'", root.display());
    let s = TestServer::start(
        app(settings(&config)).routes(build_urlpatterns!(crate::api).expect("routes")).build().expect("app").router(),
    )
    .await;
    let today = chrono::Utc::now().format("%Y/%m/%d").to_string();

    let upload = |name: &'static str| {
        let part = Part::bytes(PNG_BYTES.to_vec()).file_name(name).mime_str("image/png").expect("mime");
        s.post("/avatars/").multipart(Form::new().part("image", part))
    };
    let first = s.send(upload("../../etc/evil.png")).await;
    first.assert_data(json!(format!("avatar/{today}/evil.png")));
    // The same name again gets its own file; the first is untouched.
    s.send(upload("evil.png")).await.assert_data(json!(format!("avatar/{today}/evil-1.png")));
    let stored = std::fs::read(root.join(format!("avatar/{today}/evil.png"))).expect("stored file");
    assert_eq!(stored, PNG_BYTES);
    // Nothing escaped the root.
    assert!(!root.parent().expect("parent").join("etc/evil.png").exists());
    std::fs::remove_dir_all(&root).expect("cleanup");
}
