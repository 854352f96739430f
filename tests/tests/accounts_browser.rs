//! The `/requestDelete/` page in headless Chromium (through chromedriver and the
//! `fantoccini` WebDriver client), driving the real flow: enter the e-mail, send the
//! code, enter it, confirm — and the account is gone. The page is served with its strict
//! Content-Security-Policy (inline script and style allowed by hash only), so this also
//! checks that the hashes match what the browser computes.
//!
//! Needs `chromedriver` and `chromium` (Debian packages `chromium-driver`, `chromium`;
//! `.ci/run` installs them and sets `NETS_TEST_CHROMIUM=1`, which turns a missing
//! driver into a failure). Without them and without that variable the test says so and
//! passes, so `cargo test` works on a machine with no browser.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use nets_runtime::accounts::Accounts;
use nets_runtime::cache::Cache;
use nets_runtime::db::Db;
use nets_runtime::oauth::OAuth;
use nets_runtime::prelude::*;
use nets_runtime::users::UserTable;
use nets_tests::TestServer;
use nets_tests::db::test_db;
use serde_json::json;

/// chromedriver, killed when the test ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find_driver() -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromedriver"))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

async fn start_driver(binary: &str) -> (Driver, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
    let driver = Driver(child);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return (driver, port);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not listen on {port}");
}

#[tokio::test]
async fn a_person_deletes_their_account_from_the_page_in_chromium() {
    let Some(binary) = find_driver() else {
        if std::env::var_os("NETS_TEST_CHROMIUM").is_some() {
            panic!("NETS_TEST_CHROMIUM is set but chromedriver is not on PATH");
        }
        eprintln!("chromedriver not found: skipping the browser test (install chromium-driver)");
        return;
    };
    let db = test_db().await;
    let settings = nets_tests::settings("SECRET_KEY = 'browser test-xxxxxxxxxxxxxxxxxxx'\nDEBUG = true");
    let oauth = OAuth::from_settings(&settings, &db.db).await.unwrap();
    let users = UserTable::load(&db.db, &settings).await.unwrap();
    let accounts = Accounts::new(oauth.clone(), users, Cache::memory(100), &settings).unwrap();
    let app = App::builder(settings).database(db.db.clone()).authenticator(oauth.bearer());
    let server = TestServer::start(
        app.install(accounts.clone()).routes(build_urlpatterns!().unwrap()).build().expect("app").router(),
    )
    .await;
    // The account to delete (a login alone creates none).
    nets_tests::db::exec(&db.db, "INSERT INTO nets_user (email) VALUES ('ada@example.com')").await;

    let (_driver, port) = start_driver(&binary).await;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]}),
    );
    let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session");

    let result = async {
        browser.goto(&server.url("/requestDelete/")).await?;
        browser.find(Locator::Id("email")).await?.send_keys("Ada@Example.com").await?;
        browser.find(Locator::Id("send")).await?.click().await?;
        let status = browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#status")).await?;
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath("//*[@id='status'][contains(., 'We sent a code')]"))
            .await?;
        browser.find(Locator::Id("code")).await?.send_keys("123456").await?;
        browser.find(Locator::Id("sure")).await?.click().await?;
        browser.find(Locator::Id("delete")).await?.click().await?;
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath("//*[@id='status'][contains(., 'Account deleted successfully')]"))
            .await?;
        status.text().await
    }
    .await;
    let _ = browser.close().await;
    assert_eq!(result.expect("the page flow"), "Account deleted successfully");
    let users: i64 = match &db.db {
        Db::Sqlite(pool) => sqlx::query_scalar("SELECT COUNT(*) FROM nets_user").fetch_one(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar("SELECT COUNT(*) FROM nets_user").fetch_one(pool).await.unwrap(),
    };
    assert_eq!(users, 0, "the account was deleted");
}
