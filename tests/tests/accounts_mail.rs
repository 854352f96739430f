//! Outside `DEBUG` the login code reaches the user only by e-mail: through the job queue
//! and a worker, to a real SMTP server on loopback. The code read from that e-mail logs
//! in; a newer code retires the older one; a login sends the new-login e-mail.

use nets_runtime::accounts::Accounts;
use nets_runtime::cache::Cache;
use nets_runtime::jobs::Jobs;
use nets_runtime::mail::Mailer;
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

#[tokio::test]
async fn the_emailed_code_logs_in_and_a_newer_code_retires_the_older() {
    let smtp = SmtpServer::start().await;
    let settings = nets_tests::settings(&format!(
        "SECRET_KEY = 'mail test'\nDEBUG = false\nEMAIL_BACKEND = 'smtp'\nEMAIL_HOST = '127.0.0.1'\n\
         EMAIL_PORT = {}\nEMAIL_TIMEOUT = 5\nDEFAULT_FROM_EMAIL = 'noreply@nets.test'",
        smtp.port
    ));
    let db = test_db().await;
    let jobs = Jobs::connect(&settings, &db).await.unwrap();
    let mailer = Mailer::builder(&settings).database(db.db.clone()).jobs(jobs.clone()).build().unwrap();
    let worker = jobs.spawn_worker(mailer.clone());
    let oauth = OAuth::new(db.db.clone(), &settings).unwrap();
    let users = UserTable::load(&db.db, &settings).await.unwrap();
    let accounts = Accounts::new(oauth.clone(), users, Cache::memory(100), &settings).unwrap().with_mailer(mailer);
    let app = App::builder(settings).database(db.db.clone()).authenticator(oauth.bearer()).build();
    let server =
        TestServer::start(app.router(build_urlpatterns!().unwrap().merge(oauth.router()).merge(accounts.router())))
            .await;
    let client = oauth.create_application("m", ClientType::Confidential).await.unwrap();
    let secret = client.client_secret.clone().unwrap();
    let authenticate = |code: String| {
        server.post_json(
            "/authenticate/",
            json!({"email": "ada@x.io", "code": code, "client_id": client.client_id, "client_secret": secret}),
        )
    };

    let reply = server.send(server.post_json("/login/", json!({"email": "Ada@X.io"}))).await;
    assert_eq!(reply.json["data"], "CODE SENT", "{}", reply.text());
    let first = smtp.wait_for(1).await;
    assert_eq!(first[0].to, vec!["ada@x.io"]);
    let old_code = code_in(&first[0]);
    server.send(server.post_json("/login/", json!({"email": "ada@x.io"}))).await;
    let mails = smtp.wait_for(2).await;
    let new_code = code_in(&mails[1]);

    if old_code != new_code {
        let reply = server.send(authenticate(old_code)).await;
        reply.assert_error(400, "Invalid code for this user and device");
    }
    let reply = server.send(authenticate(new_code)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let mails = smtp.wait_for(3).await;
    assert!(mails[2].html().contains("New access to your account"), "{}", mails[2].html());
    worker.stop().await.unwrap();
}
