//! Settings from environment variables. One test in its own binary: it changes the
//! process environment, which no other thread may read at the same time.

use nets_runtime::Settings;

#[test]
fn environment_variables_override_defaults() {
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe {
        std::env::set_var("SECRET_KEY", "from-the-environment");
        // Taken verbatim, not parsed as a number.
        std::env::set_var("NETS_CORE_SECURE_CACHE_KEY", "00123");
        std::env::set_var("NETS_CORE_MIGRATE_ON_STARTUP", "false");
        std::env::set_var("REDIS_URL", "redis://127.0.0.1:6379/3");
        std::env::set_var("NETS_CORE_OPENAPI_TITLE", "Billing");
        std::env::set_var("ACCESS_TOKEN_EXPIRE_SECONDS", "600");
        std::env::set_var("NETS_CORE_TOKEN_CACHE_SECONDS", "30");
        std::env::set_var("NOT_A_NETS_SETTING", "ignored");
    }
    let settings = Settings::load_from(std::path::Path::new("/nonexistent/nets.toml")).expect("settings load");
    assert_eq!(settings.secret_key.as_ref().map(|k| k.expose()), Some("from-the-environment"));
    assert_eq!(settings.secure_cache_key.as_ref().map(|k| k.expose()), Some("00123"));
    assert!(!settings.migrate_on_startup);
    assert_eq!(settings.redis_url.as_deref(), Some("redis://127.0.0.1:6379/3"));
    assert_eq!(settings.openapi_title, "Billing");
    assert_eq!(settings.access_token_expire_seconds, 600);
    assert_eq!(settings.token_cache_seconds, 30);
}
