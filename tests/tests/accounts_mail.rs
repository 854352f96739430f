//! Outside `DEBUG` the login code reaches the user only by e-mail: through the job queue
//! and a worker, to a real SMTP server on loopback. The code read from that e-mail logs
//! in; a newer code retires the older one; a login sends the new-login e-mail.

use nets_runtime::accounts::Accounts;
use nets_runtime::cache::Cache;
use nets_runtime::db::Db;
use nets_runtime::jobs::Jobs;
use nets_runtime::mail::{Mailer, SendEmail};
use nets_runtime::oauth::{ClientType, OAuth};
use nets_runtime::prelude::*;
use nets_runtime::users::UserTable;
use nets_tests::TestServer;
use nets_tests::db::test_db;
use nets_tests::smtp::{Received, SmtpServer};
use serde_json::json;

/// The six-digit code in a code e-mail.
fn code_in(mail: &Received) -> String {
    let text = mail.text();
    let code = text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6);
    code.unwrap_or_else(|| panic!("no code in {text}")).to_owned()
}

/// A server whose codes go through the queue to a loopback SMTP server.
struct MailedLogins {
    smtp: SmtpServer,
    server: TestServer,
    client_id: String,
    secret: String,
    worker: nets_runtime::jobs::WorkerHandle,
    /// Dropping it deletes the database.
    _db: nets_tests::db::TestDb,
}

impl MailedLogins {
    async fn start(extra: &str) -> MailedLogins {
        if let Ok(filter) = std::env::var("NETS_TEST_LOG") {
            let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
        }
        let smtp = SmtpServer::start().await;
        // PostgreSQL job storage is one queue table per database: a queue of its own keeps
        // this test's worker off the other tests' jobs.
        let prefix = format!("accounts-mail-{}", uuid::Uuid::new_v4().simple());
        let settings = nets_tests::settings(&format!(
            "SECRET_KEY = 'mail test-xxxxxxxxxxxxxxxxxxxxxx'\nDEBUG = false\nEMAIL_BACKEND = 'smtp'\nEMAIL_HOST = '127.0.0.1'\n\
             EMAIL_PORT = {}\nEMAIL_TIMEOUT = 5\nDEFAULT_FROM_EMAIL = 'noreply@nets.test'\n\
             NETS_CORE_JOBS_QUEUE_PREFIX = '{prefix}'\nNETS_CORE_JOBS_HEARTBEAT_SECONDS = 1\n{extra}",
            smtp.port
        ));
        let db = test_db().await;
        let jobs = Jobs::connect(&settings, &db).await.unwrap();
        let mailer = Mailer::builder(&settings).database(db.db.clone()).jobs(jobs.clone()).build().unwrap();
        let worker = jobs.worker().register::<SendEmail>(mailer.clone()).spawn().expect("worker");
        let oauth = OAuth::from_settings(&settings, &db.db).await.unwrap();
        let users = UserTable::load(&db.db, &settings).await.unwrap();
        let accounts = Accounts::new(oauth.clone(), users, Cache::memory(100), &settings).unwrap().with_mailer(mailer);
        let app = App::builder(settings).database(db.db.clone()).authenticator(oauth.bearer());
        let routes = build_urlpatterns!().unwrap();
        let server = TestServer::start(
            app.install(oauth.clone()).install(accounts.clone()).routes(routes).build().expect("app").router(),
        )
        .await;
        let client = oauth.create_application("m", ClientType::Confidential).await.unwrap();
        let secret = client.client_secret.clone().unwrap();
        MailedLogins { smtp, server, client_id: client.client_id, secret, worker, _db: db }
    }

    async fn login(&self, body: serde_json::Value) {
        let reply = self.server.send(self.server.post_json("/login/", body)).await;
        assert_eq!(reply.json["data"], "CODE SENT", "{}", reply.text());
    }

    /// Rows of the mail queue holding `text` in a body, and code e-mail rows.
    async fn stored(&self, text: &str) -> (i64, i64) {
        const HOLDING: &str = "SELECT COUNT(*) FROM nets_email_notification \
                               WHERE html_body LIKE '%' || $1 || '%' OR txt_body LIKE '%' || $1 || '%'";
        const CODE_MAILS: &str =
            "SELECT COUNT(*) FROM nets_email_notification WHERE subject = 'Your verification code'";
        match &self._db.db {
            Db::Sqlite(pool) => (
                sqlx::query_scalar(HOLDING).bind(text).fetch_one(pool).await.unwrap(),
                sqlx::query_scalar(CODE_MAILS).fetch_one(pool).await.unwrap(),
            ),
            Db::Postgres(pool) => (
                sqlx::query_scalar(HOLDING).bind(text).fetch_one(pool).await.unwrap(),
                sqlx::query_scalar(CODE_MAILS).fetch_one(pool).await.unwrap(),
            ),
        }
    }

    async fn authenticate(&self, field: &str, identifier: &str, code: String) -> nets_tests::Reply {
        let body = json!({field: identifier, "code": code, "client_id": self.client_id, "client_secret": self.secret});
        self.server.send(self.server.post_json("/authenticate/", body)).await
    }
}

#[tokio::test]
async fn the_emailed_code_logs_in_and_a_newer_code_retires_the_older() {
    let t = MailedLogins::start("").await;
    t.login(json!({"email": "Ada@X.io"})).await;
    let first = t.smtp.wait_for(1).await;
    assert_eq!(first[0].to, vec!["ada@x.io"]);
    let old_code = code_in(&first[0]);
    t.login(json!({"email": "ada@x.io"})).await;
    let mails = t.smtp.wait_for(2).await;
    let new_code = code_in(&mails[1]);

    if old_code != new_code {
        let reply = t.authenticate("email", "ada@x.io", old_code).await;
        reply.assert_error(400, "Invalid code for this user and device");
    }
    let reply = t.authenticate("email", "ada@x.io", new_code).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let mails = t.smtp.wait_for(3).await;
    assert!(mails[2].html().contains("New access to your account"), "{}", mails[2].html());
    t.worker.stop().await.unwrap();
}

#[tokio::test]
async fn login_codes_are_never_stored_in_the_mail_queue() {
    let t = MailedLogins::start("").await;
    t.login(json!({"email": "ada@x.io"})).await;
    let mails = t.smtp.wait_for(1).await;
    let code = code_in(&mails[0]);
    // Sent directly: no row of nets_email_notification (nor any backup of it) holds it.
    assert_eq!(t.stored(&code).await, (0, 0));
    let reply = t.authenticate("email", "ada@x.io", code.clone()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    t.smtp.wait_for(2).await; // the new-login e-mail, queued as before
    let (holding, code_mails) = t.stored(&code).await;
    assert_eq!((holding, code_mails), (0, 0));
    t.worker.stop().await.unwrap();
}

#[tokio::test]
async fn username_logins_send_the_code_to_the_account_address_only() {
    let t = MailedLogins::start("NETS_CORE_USER_IDENTIFIER = 'username'").await;
    // A new username with an address: the account is created and the code goes there.
    t.login(json!({"username": "Ada_L", "email": "Ada@X.io"})).await;
    let mails = t.smtp.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["ada@x.io"]);
    let reply = t.authenticate("username", "ada_l", code_in(&mails[0])).await;
    assert_eq!(reply.status, 200, "usernames compare case-insensitively: {}", reply.text());
    assert_eq!(reply.data()["user"]["username"], "Ada_L");
    assert_eq!(reply.data()["user"]["email"], "ada@x.io");
    t.smtp.wait_for(2).await; // the new-login e-mail

    // These send nothing: an unknown username without an address, and a new username
    // whose address another account has. A different address for an existing username
    // is ignored: the code still goes to the stored one.
    t.login(json!({"username": "bob"})).await;
    t.login(json!({"username": "eve", "email": "ada@x.io"})).await;
    t.login(json!({"username": "ada_l", "email": "evil@x.io"})).await;
    let mails = t.smtp.wait_for(3).await;
    assert_eq!(mails[2].to, vec!["ada@x.io"]);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let all = t.smtp.received();
    assert_eq!(all.len(), 3, "{:?}", all.iter().map(|m| &m.to).collect::<Vec<_>>());
    let reply = t.authenticate("username", "eve", "123456".into()).await;
    reply.assert_error(400, "Invalid code for this user and device");
    t.worker.stop().await.unwrap();
}
