//! `check` finds each misconfiguration it lists (one test each) and passes a good
//! configuration; `init` writes the settings reference and never overwrites silently.
//! Run as the built `quickstart` and `projects` binaries.

mod sandbox;

use std::process::Output;

use sandbox::Sandbox;
use serde_json::Value;

const KEY: &str = "a-production-secret-key-of-forty-eight-bytes-xyz";

/// A production configuration that passes: a real key, mail to files, not DEBUG.
fn production(s: &Sandbox) -> Vec<(&'static str, String)> {
    vec![
        ("DEBUG", "false".into()),
        ("SECRET_KEY", KEY.into()),
        ("EMAIL_BACKEND", "file".into()),
        ("EMAIL_FILE_PATH", s.dir.join("mail").display().to_string()),
    ]
}

/// `check --json` with `env` on top of [`production`] (an entry `(key, "")` removes
/// the key instead); the exit status and the report.
fn check(s: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, Value) {
    let mut vars = production(s);
    for (key, value) in env {
        vars.retain(|(k, _)| k != key);
        if !value.is_empty() {
            vars.push((key, value.to_string()));
        }
    }
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let args: Vec<&str> = args.iter().copied().chain(["check", "--json"]).collect();
    let out: Output = s.run_env(&args, &vars);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{stderr}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(report["ok"], out.status.success(), "{report}");
    (out.status.code(), report)
}

/// The findings about `setting`, as `(severity, problem)`.
fn about(report: &Value, setting: &str) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["setting"] == setting)
        .map(|f| {
            assert!(!f["fix"].as_str().unwrap_or("").is_empty(), "every finding says how to fix it: {f}");
            (f["severity"].as_str().unwrap_or("").to_owned(), f["problem"].as_str().unwrap_or("").to_owned())
        })
        .collect()
}

fn migrated(s: &Sandbox) {
    let out = s.run_env(&["migrate"], &[("DEBUG", "false"), ("SECRET_KEY", KEY), ("EMAIL_BACKEND", "file")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_good_configuration_passes_with_exit_0() {
    let s = Sandbox::quickstart();
    migrated(&s);
    let (code, report) = check(&s, &[], &[("NETS_CORE_TRUSTED_PROXIES", "[\"127.0.0.1\"]")]);
    assert_eq!(code, Some(0), "{report}");
    // Only the note that pushes are not configured (this app sends none).
    let settings: Vec<&Value> = report["findings"].as_array().unwrap().iter().map(|f| &f["setting"]).collect();
    assert_eq!(settings, [&Value::from("FIREBASE_CONFIG")], "{report}");
    // The text form says so too.
    let text = s.ok(&["check"]);
    assert!(text.contains("no problems found") || text.contains("0 error(s)"), "{text}");
}

#[test]
fn a_missing_or_short_secret_key_outside_debug_is_an_error() {
    let s = Sandbox::quickstart();
    migrated(&s);
    let (code, report) = check(&s, &[], &[("SECRET_KEY", "")]);
    assert_eq!(code, Some(1));
    let found = about(&report, "SECRET_KEY");
    assert!(found.iter().any(|(sev, p)| sev == "error" && p.contains("not set")), "{report}");
    let (code, report) = check(&s, &[], &[("SECRET_KEY", "short")]);
    assert_eq!(code, Some(1));
    assert!(about(&report, "SECRET_KEY").iter().any(|(_, p)| p.contains("5 bytes")), "{report}");
}

#[test]
fn debug_on_a_non_loopback_address_is_an_error() {
    let s = Sandbox::quickstart();
    migrated(&s);
    let (code, report) = check(&s, &["--addr", "0.0.0.0:8000"], &[("DEBUG", "true")]);
    assert_eq!(code, Some(1));
    assert!(about(&report, "DEBUG").iter().any(|(sev, p)| sev == "error" && p.contains("0.0.0.0:8000")), "{report}");
    // The same on loopback is how development runs.
    let (_, report) = check(&s, &[], &[("DEBUG", "true")]);
    assert!(about(&report, "DEBUG").is_empty(), "{report}");
}

#[test]
fn an_unreachable_database_is_an_error() {
    let s = Sandbox::quickstart();
    let missing = s.dir.join("no-such-dir").join("app.db");
    let (code, report) = check(&s, &["--database-url", &format!("sqlite://{}?mode=rwc", missing.display())], &[]);
    assert_eq!(code, Some(1));
    let found = about(&report, "DATABASE_URL");
    assert!(found.iter().any(|(sev, p)| sev == "error" && p.contains("cannot be reached")), "{report}");
    // A server that does not answer (nothing listens on port 9) is reported alike, with
    // its password masked.
    let (code, report) = check(&s, &["--database-url", "postgres://nobody:pw@127.0.0.1:9/none"], &[]);
    assert_eq!(code, Some(1));
    let found = about(&report, "DATABASE_URL");
    assert!(found.iter().any(|(sev, p)| sev == "error" && p.contains("cannot be reached")), "{report}");
    assert!(!found.iter().any(|(_, p)| p.contains(":pw@")), "the password is masked: {report}");
}

#[test]
fn pending_migrations_are_an_error_unless_serve_applies_them() {
    let s = Sandbox::quickstart();
    let (code, report) = check(&s, &[], &[("NETS_CORE_MIGRATE_ON_STARTUP", "false")]);
    assert_eq!(code, Some(1));
    let found = about(&report, "NETS_CORE_MIGRATE_ON_STARTUP");
    assert!(found.iter().any(|(sev, p)| sev == "error" && p.contains("pending")), "{report}");
    let (_, report) = check(&s, &[], &[]);
    let found = about(&report, "NETS_CORE_MIGRATE_ON_STARTUP");
    assert!(found.iter().any(|(sev, _)| sev == "warning"), "{report}");
}

#[test]
fn an_unreachable_redis_is_an_error() {
    let s = Sandbox::quickstart();
    migrated(&s);
    let (code, report) = check(&s, &[], &[("REDIS_URL", "redis://127.0.0.1:9/0")]);
    assert_eq!(code, Some(1));
    assert!(about(&report, "REDIS_URL").iter().any(|(sev, _)| sev == "error"), "{report}");
}

#[test]
fn an_unreachable_smtp_server_is_an_error() {
    let s = Sandbox::quickstart();
    migrated(&s);
    let (code, report) = check(&s, &[], &[("EMAIL_BACKEND", "smtp"), ("EMAIL_HOST", "127.0.0.1"), ("EMAIL_PORT", "9")]);
    assert_eq!(code, Some(1));
    assert!(
        about(&report, "EMAIL_HOST").iter().any(|(sev, p)| sev == "error" && p.contains("127.0.0.1:9")),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_smtp_server_refusing_the_login_is_an_error() {
    let smtp = nets_tests::smtp::SmtpServer::start_with_auth("mailer", "s3cret").await;
    let port = smtp.port.to_string();
    let s = Sandbox::quickstart();
    migrated(&s);
    let run = |password: &'static str| {
        let (s, port) = (&s, port.clone());
        move || {
            check(
                s,
                &[],
                &[
                    ("EMAIL_BACKEND", "smtp"),
                    ("EMAIL_HOST", "127.0.0.1"),
                    ("EMAIL_PORT", port.as_str()),
                    ("EMAIL_HOST_USER", "mailer"),
                    ("EMAIL_HOST_PASSWORD", password),
                ],
            )
        }
    };
    let (code, report) = tokio::task::block_in_place(run("wrong"));
    assert_eq!(code, Some(1));
    assert!(about(&report, "EMAIL_HOST").iter().any(|(sev, _)| sev == "error"), "{report}");
    let (_, report) = tokio::task::block_in_place(run("s3cret"));
    assert!(about(&report, "EMAIL_HOST").is_empty(), "the right login passes: {report}");
}

#[test]
fn cors_wildcard_with_credentials_is_an_error() {
    let s = Sandbox::quickstart();
    migrated(&s);
    let (code, report) = check(&s, &[], &[("CORS_ALLOW_ALL_ORIGINS", "true"), ("CORS_ALLOW_CREDENTIALS", "true")]);
    assert_eq!(code, Some(1));
    assert!(about(&report, "CORS_ALLOW_CREDENTIALS").iter().any(|(sev, _)| sev == "error"), "{report}");
}

#[test]
fn no_trusted_proxy_behind_a_local_proxy_is_a_warning_and_trusting_everyone_an_error() {
    let s = Sandbox::quickstart();
    migrated(&s);
    let (code, report) = check(&s, &[], &[]);
    assert_eq!(code, Some(0), "warnings do not fail: {report}");
    let found = about(&report, "NETS_CORE_TRUSTED_PROXIES");
    assert!(found.iter().any(|(sev, p)| sev == "warning" && p.contains("proxy")), "{report}");
    let (code, report) = check(&s, &[], &[("NETS_CORE_TRUSTED_PROXIES", "[\"0.0.0.0/0\"]")]);
    assert_eq!(code, Some(1));
    let found = about(&report, "NETS_CORE_TRUSTED_PROXIES");
    assert!(found.iter().any(|(sev, p)| sev == "error" && p.contains("every address")), "{report}");
}

#[test]
fn can_do_names_nothing_defines_are_reported_with_their_handler() {
    let s = Sandbox::projects();
    migrated(&s);
    let (code, report) = check(&s, &[], &[]);
    let found = about(&report, "NETS_CORE_PERMISSIONS_STARTUP");
    let permission = found.iter().find(|(_, p)| p.contains("documents.view")).unwrap_or_else(|| panic!("{report}"));
    assert_eq!(permission.0, "error");
    assert!(permission.1.contains("projects.rs:"), "names the handler's source: {report}");
    assert_eq!(code, Some(1));
    // Once the permissions exist, only the role is left (a warning: memberships may name it).
    let registered = s.run_env(
        &["routes", "--json"],
        &[
            ("DEBUG", "false"),
            ("SECRET_KEY", KEY),
            ("EMAIL_BACKEND", "file"),
            ("NETS_CORE_PERMISSIONS_STARTUP", "register"),
        ],
    );
    assert!(registered.status.success(), "{}", String::from_utf8_lossy(&registered.stderr));
    let (_, report) = check(&s, &[], &[]);
    let found = about(&report, "NETS_CORE_PERMISSIONS_STARTUP");
    assert!(found.iter().all(|(sev, p)| sev == "warning" && p.contains("role:editor")), "{report}");
}

#[test]
fn a_user_setting_naming_a_missing_column_is_an_error() {
    let s = Sandbox::quickstart();
    migrated(&s);
    let (code, report) = check(&s, &[], &[("NETS_CORE_USER_JSON_FIELDS", "[\"id\", \"email\", \"shoe_size\"]")]);
    assert_eq!(code, Some(1));
    let found = about(&report, "NETS_CORE_USER_JSON_FIELDS");
    assert!(found.iter().any(|(sev, p)| sev == "error" && p.contains("shoe_size")), "{report}");
}

#[test]
fn an_unreadable_or_wrong_firebase_config_is_an_error_and_none_a_warning() {
    let s = Sandbox::quickstart();
    migrated(&s);
    let missing = s.dir.join("no-such-account.json");
    let (code, report) = check(&s, &[], &[("FIREBASE_CONFIG", missing.to_str().unwrap())]);
    assert_eq!(code, Some(1));
    assert!(
        about(&report, "FIREBASE_CONFIG").iter().any(|(sev, p)| sev == "error" && p.contains("no-such-account")),
        "{report}"
    );
    let (code, report) = check(&s, &[], &[("FIREBASE_CONFIG", "{\"type\": \"authorized_user\"}")]);
    assert_eq!(code, Some(1));
    assert!(
        about(&report, "FIREBASE_CONFIG").iter().any(|(sev, p)| sev == "error" && p.contains("service-account")),
        "{report}"
    );
    // Unset: pushes would fail as not_configured, which an app without pushes may accept.
    let (_, report) = check(&s, &[], &[]);
    assert!(about(&report, "FIREBASE_CONFIG").iter().any(|(sev, _)| sev == "warning"), "{report}");
}

#[test]
fn a_social_provider_with_an_id_and_no_secret_is_an_error() {
    let s = Sandbox::quickstart();
    migrated(&s);
    let (code, report) = check(&s, &[], &[("FACEBOOK_APP_ID", "1234"), ("GITHUB_CLIENT_ID", "Iv1.x")]);
    assert_eq!(code, Some(1));
    for setting in ["FACEBOOK_APP_SECRET", "GITHUB_CLIENT_SECRET"] {
        assert!(about(&report, setting).iter().any(|(sev, p)| sev == "error" && p.contains("no secret")), "{report}");
    }
    let with_secrets = [("FACEBOOK_APP_ID", "1234"), ("FACEBOOK_APP_SECRET", "0042"), ("GITHUB_CLIENT_ID", "Iv1.x")];
    let (_, report) =
        check(&s, &[], &[with_secrets[0], with_secrets[1], with_secrets[2], ("GITHUB_CLIENT_SECRET", "s")]);
    assert!(
        about(&report, "FACEBOOK_APP_SECRET").is_empty() && about(&report, "GITHUB_CLIENT_SECRET").is_empty(),
        "{report}"
    );
}

#[test]
fn init_writes_the_reference_refuses_to_overwrite_and_backs_up_with_force() {
    let s = Sandbox::quickstart();
    let written = s.ok(&["init"]);
    assert!(written.trim().ends_with("nets.toml"), "{written}");
    let path = s.dir.join("nets.toml");
    let reference = std::fs::read_to_string(&path).unwrap();
    assert!(reference.contains("# SECRET_KEY (environment variable SECRET_KEY)"), "{reference}");
    assert!(reference.contains("# DATABASE_URL = \"sqlite://nets.db?mode=rwc\""), "{reference}");

    // The written file is one the binary reads.
    std::fs::write(&path, format!("{reference}\nNETS_CORE_OPENAPI_TITLE = 'Mine'\n")).unwrap();
    let error = s.fails(&["init"]);
    assert!(error.contains("--force"), "{error}");
    assert!(std::fs::read_to_string(&path).unwrap().contains("'Mine'"), "left alone without --force");
    let openapi: Value = s.json(&["openapi"]);
    assert_eq!(openapi["info"]["title"], "Mine");

    s.ok(&["init", "--force"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), reference, "a fresh reference");
    let backups: Vec<_> = std::fs::read_dir(&s.dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name().to_string_lossy().starts_with("nets.toml.")
                && e.file_name().to_string_lossy().ends_with(".bak")
        })
        .collect();
    assert_eq!(backups.len(), 1);
    assert!(std::fs::read_to_string(backups[0].path()).unwrap().contains("'Mine'"), "the old file is kept");
}
