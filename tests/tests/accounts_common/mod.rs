//! Shared set-up of the `accounts*` suites: a server with the account and OAuth token
//! endpoints over a fresh test database, and a confidential client application.

use nets_runtime::accounts::Accounts;
use nets_runtime::cache::Cache;
use nets_runtime::oauth::{ClientType, NewApplication, OAuth};
use nets_runtime::prelude::*;
use nets_runtime::users::UserTable;
use nets_tests::TestServer;
use nets_tests::db::{TestDb, test_db};

/// A running server with `toml` settings, its database and a "mobile" client.
pub struct Fixture {
    pub server: TestServer,
    pub db: TestDb,
    pub client: NewApplication,
}

impl Fixture {
    pub async fn with_settings(toml: &str) -> Fixture {
        let db = test_db().await;
        let settings = nets_tests::settings(toml);
        let oauth = OAuth::from_settings(&settings, &db.db).await.expect("SECRET_KEY is set");
        let users = UserTable::load(&db.db, &settings).await.expect("user table");
        let accounts = Accounts::new(oauth.clone(), users, Cache::memory(10_000), &settings).expect("accounts");
        // One line per module; the OAuth module brings the bearer authenticator.
        let app = App::builder(settings)
            .database(db.db.clone())
            .install(oauth.clone())
            .install(accounts)
            .routes(build_urlpatterns!().unwrap())
            .build()
            .expect("app");
        let server = TestServer::start(app.router()).await;
        let client = oauth.create_application("mobile", ClientType::Confidential).await.unwrap();
        Fixture { server, db, client }
    }
}
