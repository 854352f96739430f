//! `POST /update/` with file fields (`NETS_CORE_USER_FILE_FIELDS`) over real HTTP: files
//! stored under `MEDIA_ROOT` through the upload storage, their paths written with the
//! other fields and recorded in `updated_fields`, and every refusal leaving nothing on
//! disk or in the database. SQLite by default, PostgreSQL when `NETS_TEST_DATABASE_URL`
//! is set.

use std::path::{Path, PathBuf};

use nets_runtime::accounts::Accounts;
use nets_runtime::cache::Cache;
use nets_runtime::db::Db;
use nets_runtime::oauth::{ClientType, OAuth};
use nets_runtime::prelude::*;
use nets_runtime::users::UserTable;
use nets_tests::db::{TestDb, exec, test_db};
use nets_tests::{PNG_BYTES, Reply, TestServer};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// DEBUG on, e-mail debug off: every login code is `123456`. `avatar` is the file field.
const SETTINGS: &str = "SECRET_KEY = 'accounts files test-xxxxxxxxxxxx'\nDEBUG = true\n\
                        NETS_CORE_USER_JSON_FIELDS = ['id', 'email', 'first_name', 'avatar']\n\
                        NETS_CORE_USER_FILE_FIELDS = ['avatar']";
const EMAIL: &str = "ada@x.io";
const PDF_BYTES: &[u8] = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n";

/// A server whose `nets_user` has a file column, `avatar`, with a temporary `MEDIA_ROOT`,
/// and a logged-in user.
struct Fixture {
    server: TestServer,
    db: TestDb,
    media: MediaRoot,
    token: String,
}

/// A temporary `MEDIA_ROOT`, removed when the test ends.
struct MediaRoot(PathBuf);

impl Drop for MediaRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Fixture {
    async fn new() -> Fixture {
        Fixture::with_settings("").await
    }

    async fn with_settings(extra: &str) -> Fixture {
        let db = test_db().await;
        // The CHECK lets a test make the UPDATE fail after the files were saved.
        exec(&db, "ALTER TABLE nets_user ADD COLUMN avatar VARCHAR(255) CHECK (avatar NOT LIKE '%reject%')").await;
        let media = MediaRoot(std::env::temp_dir().join(format!("nets-user-media-{}", uuid::Uuid::new_v4())));
        let settings = nets_tests::settings(&format!("{SETTINGS}\nMEDIA_ROOT = '{}'\n{extra}", media.0.display()));
        let oauth = OAuth::from_settings(&settings, &db.db).await.expect("SECRET_KEY is set");
        let users = UserTable::load(&db.db, &settings).await.expect("user table");
        let accounts = Accounts::new(oauth.clone(), users, Cache::memory(1000), &settings).expect("accounts");
        let app = App::builder(settings).database(db.db.clone()).authenticator(oauth.bearer());
        let routes = build_urlpatterns!().expect("routes");
        let server = TestServer::start(
            app.install(oauth.clone()).install(accounts.clone()).routes(routes).build().expect("app").router(),
        )
        .await;
        let client = oauth.create_application("mobile", ClientType::Confidential).await.expect("client");
        let login = server.send(server.post_json("/login/", json!({"email": EMAIL}))).await;
        assert_eq!(login.json["data"], "CODE SENT", "{}", login.text());
        let body = json!({
            "email": EMAIL,
            "code": "123456",
            "client_id": client.client_id,
            "client_secret": client.client_secret.as_deref().expect("a confidential client's secret"),
        });
        let reply = server.send(server.post_json("/authenticate/", body)).await;
        let token = reply.data()["access_token"].as_str().expect("an access token").to_owned();
        Fixture { server, db, media, token }
    }

    async fn update(&self, form: Form) -> Reply {
        self.server.send(self.server.post("/update/").multipart(form).bearer_auth(&self.token)).await
    }

    async fn update_json(&self, body: Value) -> Reply {
        self.server.send(self.server.post_json("/update/", body).bearer_auth(&self.token)).await
    }

    async fn profile(&self) -> Value {
        let reply = self.server.send(self.server.get("/getProfile/").bearer_auth(&self.token)).await;
        reply.data().clone()
    }

    /// `avatar`, `first_name` and the `updated_fields` history of the user, from the database.
    async fn row(&self) -> (Option<String>, String, Value) {
        let sql = "SELECT avatar, first_name, CAST(updated_fields AS TEXT) FROM nets_user WHERE email = $1";
        let (avatar, first_name, history): (Option<String>, String, String) = match &self.db.db {
            Db::Sqlite(pool) => sqlx::query_as(sql).bind(EMAIL).fetch_one(pool).await,
            Db::Postgres(pool) => sqlx::query_as(sql).bind(EMAIL).fetch_one(pool).await,
        }
        .expect("the user row");
        (avatar, first_name, serde_json::from_str(&history).expect("history is JSON"))
    }

    /// Every file under `MEDIA_ROOT`, relative to it.
    fn stored_files(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        walk(&self.media.0, &self.media.0, &mut found);
        found.sort();
        found
    }

    /// Asserts that nothing was stored: no file, no avatar, first name unchanged, neither
    /// in the history.
    #[track_caller]
    fn assert_untouched(&self, row: &(Option<String>, String, Value)) {
        assert_eq!(self.stored_files(), Vec::<PathBuf>::new(), "a file was stored");
        let (avatar, first_name, history) = row;
        assert_eq!((avatar, first_name.as_str()), (&None, ""), "the row was written");
        assert!(history.get("avatar").is_none() && history.get("first_name").is_none(), "{history}");
    }
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, found);
        } else {
            found.push(path.strip_prefix(root).expect("under the root").to_path_buf());
        }
    }
}

fn file(name: &str, bytes: &[u8], declared: &str) -> Part {
    Part::bytes(bytes.to_vec()).file_name(name.to_owned()).mime_str(declared).expect("a valid MIME type")
}

fn png(name: &str) -> Part {
    file(name, PNG_BYTES, "image/png")
}

/// 400 whose `errors` name exactly `field`, with a problem containing `problem`.
#[track_caller]
fn assert_refused(reply: &Reply, field: &str, problem: &str) {
    assert_eq!(reply.status, 400, "{}", reply.text());
    let errors = reply.json["errors"].as_object().expect("an errors map");
    assert_eq!(errors.keys().collect::<Vec<_>>(), [field], "{}", reply.text());
    let text = errors[field].to_string();
    assert!(text.contains(problem), "{field}: {text}");
    assert!(reply.json["message"].as_str().is_some_and(|m| m.contains(field)), "{}", reply.text());
}

#[tokio::test]
async fn a_png_is_stored_under_the_media_root_and_its_path_written_recorded_and_shown() {
    let f = Fixture::new().await;
    let reply = f.update(Form::new().part("avatar", png("../../etc/cat.png"))).await;
    let path = reply.data()["avatar"].as_str().expect("the stored path").to_owned();
    // `user/YYYY/MM/DD/<sanitised name>`
    let parts: Vec<&str> = path.split('/').collect();
    let digits = |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    assert!(parts.len() == 5 && (parts[0], parts[4]) == ("user", "cat.png"), "{path}");
    assert!(digits(parts[1], 4) && digits(parts[2], 2) && digits(parts[3], 2), "{path}");
    assert_eq!(std::fs::read(f.media.0.join(&path)).expect("the stored file"), PNG_BYTES, "the exact bytes");
    assert_eq!(f.stored_files(), [PathBuf::from(&path)]);

    let (avatar, _, history) = f.row().await;
    assert_eq!(avatar.as_deref(), Some(path.as_str()));
    let entries = history["avatar"].as_array().expect("an avatar history");
    assert_eq!(entries.len(), 1, "{history}");
    assert_eq!((&entries[0]["old"], &entries[0]["new"]), (&Value::Null, &json!(path)));
    assert!(entries[0]["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{history}");
    assert_eq!(f.profile().await["avatar"], json!(path));
}

#[tokio::test]
async fn a_text_field_and_a_file_in_one_request_both_land_in_one_update() {
    let f = Fixture::new().await;
    let form = Form::new().text("first_name", "Ada").part("avatar", png("me.png"));
    let reply = f.update(form).await;
    let data = reply.data();
    assert_eq!(data["first_name"], "Ada");
    let path = data["avatar"].as_str().expect("the stored path").to_owned();
    let (avatar, first_name, history) = f.row().await;
    assert_eq!((avatar.as_deref(), first_name.as_str()), (Some(path.as_str()), "Ada"));
    // One statement, one time for both entries.
    assert_eq!(history["first_name"][0]["new"], "Ada");
    assert_eq!(history["first_name"][0]["time"], history["avatar"][0]["time"], "{history}");
}

#[tokio::test]
async fn a_second_upload_with_the_same_name_keeps_the_first_file() {
    let f = Fixture::new().await;
    let first = f.update(Form::new().part("avatar", png("cat.png"))).await.data()["avatar"].clone();
    let second_bytes = [PNG_BYTES, b"second"].concat();
    let second = f.update(Form::new().part("avatar", file("cat.png", &second_bytes, "image/png"))).await;
    let second = second.data()["avatar"].as_str().expect("the stored path").to_owned();
    let first = first.as_str().expect("the first path");
    assert_eq!(second, first.replace("cat.png", "cat-1.png"));
    assert_eq!(std::fs::read(f.media.0.join(first)).expect("the first file is kept"), PNG_BYTES);
    assert_eq!(std::fs::read(f.media.0.join(&second)).expect("the second file"), second_bytes);
    let (avatar, _, history) = f.row().await;
    assert_eq!(avatar.as_deref(), Some(second.as_str()));
    assert_eq!(history["avatar"][1]["old"], json!(first), "the history keeps the previous path");
    assert_eq!(history["avatar"][1]["new"], json!(second));
}

#[tokio::test]
async fn a_file_of_another_type_is_refused_whatever_its_name_and_declared_type() {
    let f = Fixture::new().await;
    for part in [file("cv.png", PDF_BYTES, "image/png"), file("notes.png", b"just some text", "image/png")] {
        let form = Form::new().text("first_name", "Ada").part("avatar", part);
        let reply = f.update(form).await;
        assert_refused(&reply, "avatar", "are not allowed (allowed: image/png, image/jpeg, image/gif, image/webp)");
        f.assert_untouched(&f.row().await);
    }
    let reply = f.update(Form::new().part("avatar", file("cv.png", PDF_BYTES, "image/png"))).await;
    assert_refused(&reply, "avatar", "files of type 'application/pdf'");
    // Wildcards widen the list.
    let pdfs = Fixture::with_settings("NETS_CORE_USER_FILE_TYPES = ['application/pdf', 'image/*']").await;
    let reply = pdfs.update(Form::new().part("avatar", file("cv.pdf", PDF_BYTES, "application/octet-stream"))).await;
    assert!(reply.data()["avatar"].as_str().is_some_and(|p| p.ends_with("/cv.pdf")), "{}", reply.text());
}

#[tokio::test]
async fn a_file_too_large_is_refused_and_nothing_is_written() {
    let f = Fixture::with_settings("NETS_CORE_USER_FILE_MAX_BYTES = 1024").await;
    let big = [PNG_BYTES, &[0u8; 2000]].concat();
    let form = Form::new().text("first_name", "Ada").part("avatar", file("big.png", &big, "image/png"));
    assert_refused(&f.update(form).await, "avatar", "the file is too large (at most 1024 bytes)");
    f.assert_untouched(&f.row().await);
    // Beyond one file per file field plus 64 KiB, the body itself is refused.
    let huge = [PNG_BYTES, vec![0u8; 100 * 1024].as_slice()].concat();
    let reply = f.update(Form::new().part("avatar", file("huge.png", &huge, "image/png"))).await;
    reply.assert_error(413, &format!("request body too large (limit is {} bytes)", 1024 + 64 * 1024));
    f.assert_untouched(&f.row().await);
    // At the limit is fine.
    let fits = [PNG_BYTES, &[0u8; 1024 - 16]].concat();
    assert_eq!(f.update(Form::new().part("avatar", file("ok.png", &fits, "image/png"))).await.status, 200);
}

#[tokio::test]
async fn the_other_endpoints_keep_their_64_kib_limit() {
    let f = Fixture::new().await;
    let pad = "a".repeat(100 * 1024);
    let reply = f.server.send(f.server.post_json("/getProfile/", json!({"pad": pad})).bearer_auth(&f.token)).await;
    reply.assert_error(413, "request body too large (limit is 65536 bytes)");
    // /update/ takes it (and ignores the unknown field).
    let reply = f.update_json(json!({"pad": pad})).await;
    assert_eq!((reply.status, &reply.json["extra"]["ignored"]), (200, &json!(["pad"])), "{}", reply.text());
}

#[tokio::test]
async fn a_file_under_a_name_that_is_not_a_file_field_is_refused() {
    let f = Fixture::new().await;
    for name in ["first_name", "nickname"] {
        let reply = f.update(Form::new().part(name, png("cat.png"))).await;
        assert_refused(&reply, name, "this field does not take a file");
        f.assert_untouched(&f.row().await);
    }
}

#[tokio::test]
async fn a_file_field_sent_as_a_value_is_refused_so_clients_never_choose_the_path() {
    let f = Fixture::new().await;
    let problem = "upload a file (multipart/form-data) to change this field";
    assert_refused(&f.update_json(json!({"avatar": "../../etc/passwd"})).await, "avatar", problem);
    assert_refused(&f.update_json(json!({"avatar": null, "first_name": "Ada"})).await, "avatar", problem);
    let form = f.server.post("/update/").form(&[("avatar", "user/2020/01/01/x.png")]).bearer_auth(&f.token);
    assert_refused(&f.server.send(form).await, "avatar", problem);
    let multipart = Form::new().text("avatar", "/etc/passwd").text("first_name", "Ada");
    assert_refused(&f.update(multipart).await, "avatar", problem);
    f.assert_untouched(&f.row().await);
}

#[tokio::test]
async fn prohibited_fields_are_refused_in_multipart_bodies_as_text_or_file() {
    let f = Fixture::with_settings("NETS_CORE_USER_PROHIBITED_FIELDS = ['avatar']").await;
    let reply = f.update(Form::new().text("is_superuser", "true").part("first_name", png("x.png"))).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.json["message"], "prohibited fields: is_superuser");
    let reply = f.update(Form::new().part("is_staff", png("x.png"))).await;
    assert_eq!(reply.json["message"], "prohibited fields: is_staff", "{}", reply.text());
    // A file field the settings prohibit takes no file.
    let reply = f.update(Form::new().part("avatar", png("x.png")).text("first_name", "Ada")).await;
    assert_eq!(reply.json["message"], "prohibited fields: avatar", "{}", reply.text());
    f.assert_untouched(&f.row().await);
}

#[tokio::test]
async fn malformed_multipart_bodies_and_repeated_fields_are_400s() {
    let f = Fixture::new().await;
    let raw = |content_type: &'static str, body: &'static [u8]| {
        f.server.post("/update/").header("content-type", content_type).body(body.to_vec()).bearer_auth(&f.token)
    };
    let reply = f.server.send(raw("multipart/form-data", b"--x\r\n")).await;
    reply.assert_error(400, "malformed multipart body: missing boundary");
    let reply = f.server.send(raw("multipart/form-data; boundary=x", b"--x\r\nno headers, no end")).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(
        reply.json["message"].as_str().is_some_and(|m| m.starts_with("malformed multipart body")),
        "{}",
        reply.text()
    );
    let twice = Form::new().part("avatar", png("a.png")).part("avatar", png("b.png"));
    assert_refused(&f.update(twice).await, "avatar", "sent more than once");
    let twice = Form::new().text("first_name", "A").text("first_name", "B");
    assert_refused(&f.update(twice).await, "first_name", "sent more than once");
    f.assert_untouched(&f.row().await);
}

#[tokio::test]
async fn a_failed_update_removes_the_files_it_saved() {
    let f = Fixture::new().await;
    // The column's CHECK refuses this path: the files are saved, then the UPDATE fails.
    let reply = f.update(Form::new().part("avatar", png("reject.png")).text("first_name", "Ada")).await;
    assert_eq!(reply.status, 500, "{}", reply.text());
    f.assert_untouched(&f.row().await);
}

#[tokio::test]
async fn a_name_too_long_for_the_column_is_refused_before_saving() {
    let f = Fixture::new().await;
    let long = format!("{}.png", "n".repeat(240));
    assert_refused(&f.update(Form::new().part("avatar", png(&long))).await, "avatar", "the file name is too long");
    f.assert_untouched(&f.row().await);
    // 255 - "user/YYYY/MM/DD/" - "-999" leaves 235 characters for the name.
    let longest = format!("{}.png", "n".repeat(231));
    assert_eq!(f.update(Form::new().part("avatar", png(&longest))).await.status, 200);
}

#[tokio::test]
async fn without_a_token_nothing_is_read_or_stored() {
    let f = Fixture::new().await;
    let reply = f.server.send(f.server.post("/update/").multipart(Form::new().part("avatar", png("a.png")))).await;
    assert_eq!(reply.status, 401, "{}", reply.text());
    f.assert_untouched(&f.row().await);
}
