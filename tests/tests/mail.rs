//! `send_email` against a real SMTP server on loopback: every reason code, recipient
//! filtering with wildcards, debug/force, templates, footer, text parts, attachments,
//! authentication, and the development transports.

use std::time::Duration;

use nets_runtime::Settings;
use nets_runtime::mail::{Attachment, Mailer, Reason, Transport};
use nets_tests::smtp::SmtpServer;
use serde_json::json;

/// Settings pointing at `smtp`, plus `extra` TOML lines.
fn settings_for(port: u16, extra: &str) -> Settings {
    nets_tests::settings(&format!(
        "EMAIL_BACKEND = 'smtp'\nEMAIL_HOST = '127.0.0.1'\nEMAIL_PORT = {port}\nEMAIL_TIMEOUT = 5\n\
         DEFAULT_FROM_EMAIL = 'Nets <noreply@nets.test>'\n{extra}"
    ))
}

fn mailer(settings: &Settings) -> Mailer {
    Mailer::builder(settings).build().expect("mailer")
}

async fn smtp_and_mailer(extra: &str) -> (SmtpServer, Mailer) {
    let smtp = SmtpServer::start().await;
    let mailer = mailer(&settings_for(smtp.port, extra));
    (smtp, mailer)
}

#[tokio::test]
async fn a_template_email_arrives_with_subject_html_text_and_footer() {
    let (smtp, mailer) = smtp_and_mailer("").await;
    let outcome = mailer
        .email("Verification code")
        .to("Ada@Example.com")
        .template("nets_core/email/verification_code.html")
        .context(json!({"button_link": {"url": "", "label": "493817"}}))
        .queued(false)
        .send()
        .await;
    assert_eq!((outcome.sent, outcome.reason, outcome.description.as_str()), (true, Reason::EmailSent, "Email sent 1"));
    let got = smtp.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, vec!["ada@example.com"]);
    assert_eq!(got[0].from, "noreply@nets.test");
    assert_eq!(got[0].subject(), "Verification code");
    let html = got[0].html();
    assert!(html.contains("Here is your verification code") && html.contains("493817"), "{html}");
    assert!(
        html.contains("<span><i class=\"small\">NETS CORE footer email, you can customize this message in settings.NETS_CORE_EMAIL_FOOTER</i></span></body>"),
        "default footer before </body>: {html}"
    );
    assert!(!html.contains("<script"), "no third-party scripts: {html}");
    let text = got[0].text();
    assert!(
        text.contains("493817") && text.contains("Here is your verification code"),
        "text derived from HTML: {text}"
    );
    assert!(!text.contains("<td"), "{text}");
}

#[tokio::test]
async fn html_mode_renders_the_context_and_adds_no_footer() {
    let (smtp, mailer) = smtp_and_mailer("").await;
    let outcome = mailer
        .email("Hello")
        .to("bob@example.com")
        .html("<html><body><p>Hi {{ name }}!</p></body></html>")
        .context(json!({"name": "Bob <3"}))
        .queued(false)
        .send()
        .await;
    assert_eq!(outcome.reason, Reason::EmailSent, "{outcome:?}");
    let html = smtp.wait_for(1).await[0].html();
    assert!(html.contains("<p>Hi Bob &lt;3!</p>"), "rendered with the context, escaped: {html}");
    assert!(!html.contains("footer"), "{html}");
}

#[tokio::test]
async fn a_text_template_is_rendered_with_the_context() {
    let dir = tempdir("text");
    std::fs::write(dir.join("hello.txt"), "Hello {{ name }}, plain & simple").unwrap();
    let (smtp, mailer) = smtp_and_mailer(&format!("NETS_CORE_EMAIL_TEMPLATES_DIR = '{}'", dir.display())).await;
    let outcome = mailer
        .email("Hi")
        .to("bob@example.com")
        .html("<p>Hello {{ name }}</p>")
        .text_template("hello.txt")
        .context(json!({"name": "Bob"}))
        .queued(false)
        .send()
        .await;
    assert_eq!(outcome.reason, Reason::EmailSent, "{outcome:?}");
    assert_eq!(smtp.wait_for(1).await[0].text().trim_end(), "Hello Bob, plain & simple");
}

#[tokio::test]
async fn attachments_arrive_and_force_an_immediate_send() {
    let (smtp, mailer) = smtp_and_mailer("").await;
    let outcome = mailer
        .email("Your invoice")
        .to("ada@example.com")
        .html("<p>Attached.</p>")
        .attach(Attachment::new("invoice.pdf", b"%PDF-1.7 fake".to_vec()))
        .attach(Attachment::new("data.bin", vec![0u8, 1, 2, 255]).with_content_type("application/x-nets"))
        .send() // queued by default: attachments switch to an immediate send
        .await;
    assert_eq!((outcome.sent, outcome.reason), (true, Reason::EmailSent), "{outcome:?}");
    let got = smtp.wait_for(1).await;
    let attachments = got[0].attachments();
    assert_eq!(
        attachments,
        vec![
            ("invoice.pdf".to_owned(), "application/pdf".to_owned(), b"%PDF-1.7 fake".to_vec()),
            ("data.bin".to_owned(), "application/x-nets".to_owned(), vec![0u8, 1, 2, 255]),
        ]
    );
    assert!(got[0].html().contains("Attached."));
}

#[tokio::test]
async fn malformed_attachments_are_invalid_attachment() {
    let (smtp, mailer) = smtp_and_mailer("").await;
    for bad in [
        Attachment::new("", b"x".to_vec()),
        Attachment::new("../etc/passwd", b"x".to_vec()),
        Attachment::new("a\r\nb.txt", b"x".to_vec()),
        Attachment::new("a.txt", b"x".to_vec()).with_content_type("not a mime type"),
    ] {
        let outcome =
            mailer.email("x").to("ada@example.com").html("<p>x</p>").attach(bad.clone()).queued(false).send().await;
        assert_eq!((outcome.sent, outcome.reason), (false, Reason::InvalidAttachment), "{bad:?}");
        assert!(outcome.description.starts_with("Invalid attachment format"), "{}", outcome.description);
        assert_eq!(outcome.clone().into_tuple().1, "invalid_attachment");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(smtp.received().is_empty());
}

#[tokio::test]
async fn wildcard_exclusions_drop_matching_domains_and_every_other_address_is_sent_separately() {
    let (smtp, mailer) = smtp_and_mailer("NETS_CORE_EMAIL_EXCLUDE_DOMAINS = ['mailinator*', 'temp-mail.org']").await;
    let outcome = mailer
        .email("News")
        .to_all(["a@ok.com", "b@mailinator.com", "c@mailinator.org", "d@temp-mail.org", "e@ok.com", "not-an-address"])
        .html("<p>News</p>")
        .queued(false)
        .send()
        .await;
    assert_eq!((outcome.sent, outcome.reason), (true, Reason::EmailSent), "{outcome:?}");
    assert!(outcome.description.starts_with("Email sent 2 Email domain is in NETS_CORE_EMAIL_EXCLUDE_DOMAINS, the following email(s) were excluded: [\"b@mailinator.com\",\"c@mailinator.org\",\"d@temp-mail.org\",\"not-an-address\"] for domain(s): mailinator*, mailinator*, temp-mail.org, Invalid email address"), "{}", outcome.description);
    let got = smtp.wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut to: Vec<Vec<String>> = smtp.received().iter().map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(
        to,
        vec![vec!["a@ok.com".to_owned()], vec!["e@ok.com".to_owned()]],
        "one message per recipient, nobody sees the others"
    );
    assert_eq!(got.len(), 2);
}

#[tokio::test]
async fn no_valid_recipient_is_empty_email_naming_the_invalid_ones() {
    let (smtp, mailer) = smtp_and_mailer("NETS_CORE_EMAIL_EXCLUDE_DOMAINS = ['mailinator*']").await;
    let outcome =
        mailer.email("x").to_all(["", "nope", "x@mailinator.net"]).html("<p>x</p>").queued(false).send().await;
    assert_eq!((outcome.sent, outcome.reason), (false, Reason::EmptyEmail));
    assert!(
        outcome.description.starts_with("Email is empty Email domain is in NETS_CORE_EMAIL_EXCLUDE_DOMAINS"),
        "{}",
        outcome.description
    );
    assert!(
        outcome.description.contains("Invalid email address"),
        "invalid_email's text names the bad ones: {}",
        outcome.description
    );
    let outcome = mailer.email("x").html("<p>x</p>").queued(false).send().await;
    assert_eq!((outcome.reason, outcome.description.as_str()), (Reason::EmptyEmail, "Email is empty"));
    assert!(smtp.received().is_empty());
}

#[tokio::test]
async fn template_problems_have_their_own_reason_codes() {
    let dir = tempdir("broken");
    std::fs::write(dir.join("broken.html"), "<p>{% if %}</p>").unwrap();
    std::fs::write(dir.join("uses_filter.html"), "<p>{{ 1 | no_such_filter }}</p>").unwrap();
    let (smtp, mailer) = smtp_and_mailer(&format!("NETS_CORE_EMAIL_TEMPLATES_DIR = '{}'", dir.display())).await;

    let o = send(mailer.email("x").template("missing.html")).await;
    assert_eq!((o.sent, o.reason.code()), (false, "template_not_found"));
    assert!(o.description.starts_with("Template does not exist missing.html"), "{}", o.description);

    let o = send(mailer.email("x").template("broken.html")).await;
    assert_eq!(o.reason.code(), "template_syntax_error");
    assert!(o.description.starts_with("Template syntax error broken.html"), "{}", o.description);

    let o = send(mailer.email("x").template("uses_filter.html")).await;
    assert_eq!(o.reason, Reason::TemplateSyntaxError);

    let o = send(mailer.email("x").html("{% for %}")).await;
    assert_eq!(o.reason, Reason::TemplateSyntaxError, "html mode reports syntax errors too (the original raised)");

    let o = send(mailer.email("x").text_template("missing.txt").html("<p>x</p>")).await;
    assert_eq!(o.reason, Reason::TemplateNotFound, "a missing text template is reported, not raised");

    let o = send(mailer.email("x")).await;
    assert_eq!(
        (o.reason.code(), o.description.as_str()),
        ("template_or_html_required", "template or html content for send_email is required")
    );
    assert!(smtp.received().is_empty());
}

#[tokio::test]
async fn debug_disables_email_unless_forced_or_enabled() {
    let (smtp, mailer) = smtp_and_mailer("DEBUG = true").await;
    let o = mailer.email("x").to("ada@example.com").html("<p>x</p>").queued(false).send().await;
    assert_eq!(
        o.into_tuple(),
        (false, "email_disabled", "emails are disabled while debug is true in settings".to_owned())
    );
    let o = mailer.email("forced").to("ada@example.com").html("<p>x</p>").queued(false).force(true).send().await;
    assert_eq!(o.reason, Reason::EmailSent);
    assert_eq!(smtp.wait_for(1).await[0].subject(), "forced");

    let (smtp, mailer) = smtp_and_mailer("DEBUG = true\nNETS_CORE_EMAIL_DEBUG_ENABLED = true").await;
    let o = mailer.email("enabled").to("ada@example.com").html("<p>x</p>").queued(false).send().await;
    assert_eq!(o.reason, Reason::EmailSent);
    assert_eq!(smtp.wait_for(1).await[0].subject(), "enabled");
}

#[tokio::test]
async fn an_unreachable_server_is_email_not_sent() {
    let port = free_port();
    let mailer = mailer(&settings_for(port, ""));
    let o = mailer.email("x").to("ada@example.com").html("<p>x</p>").queued(false).send().await;
    assert_eq!((o.sent, o.reason), (false, Reason::EmailNotSent));
    assert!(o.description.starts_with("Email wasn't sent ada@example.com: "), "{}", o.description);
}

#[tokio::test]
async fn queueing_without_a_database_is_email_not_sent() {
    let (smtp, mailer) = smtp_and_mailer("").await;
    let o = mailer.email("x").to("ada@example.com").html("<p>x</p>").send().await;
    assert_eq!((o.sent, o.reason), (false, Reason::EmailNotSent));
    assert!(o.description.contains("needs a database"), "{}", o.description);
    assert!(smtp.received().is_empty());
}

#[tokio::test]
async fn footer_text_template_and_switch() {
    let (smtp, mailer) = smtp_and_mailer("NETS_CORE_EMAIL_FOOTER = 'Unsubscribe <here>'").await;
    let o = mailer
        .email("x")
        .to("ada@example.com")
        .template("nets_core/email/verification_code.html")
        .queued(false)
        .send()
        .await;
    assert_eq!(o.reason, Reason::EmailSent);
    assert!(
        smtp.wait_for(1).await[0]
            .html()
            .contains("<span><i class=\"small\">Unsubscribe &lt;here&gt;</i></span></body>")
    );

    let dir = tempdir("footer");
    std::fs::write(dir.join("footer.html"), "<footer>Sent to {{ user }}</footer>").unwrap();
    let extra = format!(
        "NETS_CORE_EMAIL_FOOTER = 'ignored'\nNETS_CORE_EMAIL_FOOTER_TEMPLATE = 'footer.html'\nNETS_CORE_EMAIL_TEMPLATES_DIR = '{}'",
        dir.display()
    );
    let (smtp, mailer) = smtp_and_mailer(&extra).await;
    let o = mailer
        .email("x")
        .to("ada@example.com")
        .template("nets_core/email/verification_code.html")
        .context(json!({"user": "Ada"}))
        .queued(false)
        .send()
        .await;
    assert_eq!(o.reason, Reason::EmailSent);
    let html = smtp.wait_for(1).await[0].html();
    assert!(
        html.contains("<footer>Sent to Ada</footer></body>") && !html.contains("ignored"),
        "the template wins: {html}"
    );

    let (smtp, mailer) = smtp_and_mailer("NETS_CORE_EMAIL_FOOTER_ENABLED = false").await;
    let o = mailer
        .email("x")
        .to("ada@example.com")
        .template("nets_core/email/verification_code.html")
        .queued(false)
        .send()
        .await;
    assert_eq!(o.reason, Reason::EmailSent);
    assert!(!smtp.wait_for(1).await[0].html().contains("footer email"));
}

#[tokio::test]
async fn smtp_authentication_is_used_and_wrong_credentials_fail() {
    let smtp = SmtpServer::start_with_auth("mailer", "s3cret").await;
    let good = mailer(&settings_for(smtp.port, "EMAIL_HOST_USER = 'mailer'\nEMAIL_HOST_PASSWORD = 's3cret'"));
    let o = good.email("authed").to("ada@example.com").html("<p>x</p>").queued(false).send().await;
    assert_eq!(o.reason, Reason::EmailSent, "{o:?}");
    assert_eq!(smtp.wait_for(1).await[0].subject(), "authed");
    let bad = mailer(&settings_for(smtp.port, "EMAIL_HOST_USER = 'mailer'\nEMAIL_HOST_PASSWORD = 'wrong'"));
    let o = bad.email("x").to("ada@example.com").html("<p>x</p>").queued(false).send().await;
    assert_eq!(o.reason, Reason::EmailNotSent, "{o:?}");
    let anonymous = mailer(&settings_for(smtp.port, ""));
    let o = anonymous.email("x").to("ada@example.com").html("<p>x</p>").queued(false).send().await;
    assert_eq!(o.reason, Reason::EmailNotSent, "the server requires AUTH: {o:?}");
    assert_eq!(smtp.received().len(), 1);
}

#[tokio::test]
async fn the_file_and_console_transports_need_no_server() {
    let dir = tempdir("eml");
    let settings = nets_tests::settings(&format!("EMAIL_BACKEND = 'file'\nEMAIL_FILE_PATH = '{}'", dir.display()));
    let mailer = mailer(&settings);
    let o = mailer.email("On disk").to("ada@example.com").html("<p>x</p>").queued(false).send().await;
    assert_eq!(o.reason, Reason::EmailSent);
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(Result::ok).collect();
    assert_eq!(files.len(), 1);
    let eml = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(eml.contains("Subject: On disk") && eml.contains("To: ada@example.com"), "{eml}");

    // Console outside DEBUG only when allowed (it would print login codes); without any
    // mail setting outside DEBUG there is no default backend (issue 11).
    assert!(Mailer::builder(&Settings::default()).build().is_err());
    assert!(Mailer::builder(&nets_tests::settings("EMAIL_BACKEND = 'console'")).build().is_err());
    let allowed = nets_tests::settings("EMAIL_BACKEND = 'console'\nNETS_CORE_EMAIL_CONSOLE_ALLOWED = true");
    let console = Mailer::builder(&allowed).build().unwrap();
    assert!(matches!(Transport::from_settings(&allowed), Ok(Transport::Console)));
    let o = console.email("x").to("ada@example.com").html("<p>x</p>").queued(false).send().await;
    assert_eq!(o.reason, Reason::EmailSent);
    let bad = nets_tests::settings("EMAIL_BACKEND = 'smtp'\nEMAIL_USE_TLS = true\nEMAIL_USE_SSL = true");
    assert!(Mailer::builder(&bad).build().is_err(), "TLS and SSL together are refused at start-up");
}

#[tokio::test]
async fn stored_templates_render_with_the_context() {
    let db = nets_tests::db::test_db().await;
    insert_template(
        &db,
        "welcome",
        "<html><body>Welcome {{ name }}</body></html>",
        Some("Welcome {{ name }} (text)"),
        true,
    )
    .await;
    insert_template(&db, "off", "<p>off</p>", None, false).await;
    let smtp = SmtpServer::start().await;
    let mailer = Mailer::builder(&settings_for(smtp.port, "")).database(db.db.clone()).build().unwrap();
    let o = mailer
        .email("Welcome")
        .to("ada@example.com")
        .stored_template("welcome")
        .context(json!({"name": "Ada"}))
        .queued(false)
        .send()
        .await;
    assert_eq!(o.reason, Reason::EmailSent, "{o:?}");
    let got = smtp.wait_for(1).await;
    assert!(got[0].html().contains("Welcome Ada<span><i class=\"small\">"), "rendered, with footer: {}", got[0].html());
    assert_eq!(got[0].text().trim_end(), "Welcome Ada (text)");
    let o = mailer.email("x").to("ada@example.com").stored_template("off").queued(false).send().await;
    assert_eq!(o.reason, Reason::TemplateNotFound, "disabled templates are not used");
    let o = mailer.email("x").to("ada@example.com").stored_template("nope").queued(false).send().await;
    assert_eq!(o.reason, Reason::TemplateNotFound);
}

async fn send(b: nets_runtime::mail::EmailBuilder<'_>) -> nets_runtime::mail::Outcome {
    b.to("ada@example.com").queued(false).send().await
}

async fn insert_template(db: &nets_runtime::db::Db, name: &str, html: &str, text: Option<&str>, enabled: bool) {
    use nets_runtime::db::Db;
    match db {
        Db::Sqlite(pool) => {
            sqlx::query("INSERT INTO nets_email_template (name, html_body, text_body, enabled) VALUES (?1, ?2, ?3, ?4)")
                .bind(name)
                .bind(html)
                .bind(text)
                .bind(enabled)
                .execute(pool)
                .await
                .map(drop)
        }
        Db::Postgres(pool) => {
            sqlx::query("INSERT INTO nets_email_template (name, html_body, text_body, enabled) VALUES ($1, $2, $3, $4)")
                .bind(name)
                .bind(html)
                .bind(text)
                .bind(enabled)
                .execute(pool)
                .await
                .map(drop)
        }
    }
    .expect("insert template");
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nets-mail-{tag}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
