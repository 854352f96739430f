//! The process's TLS crypto provider.
//!
//! nets' outgoing HTTPS (push to FCM, and the clients of later modules) uses rustls
//! built without a provider of its own, so that exactly one (ring) is compiled in: two
//! would make every client construction panic at runtime, and aws-lc needs a C
//! toolchain. rustls then needs the provider installed once per process, before any
//! client is built, your own `reqwest` clients included (features unify in one build).

/// Installs ring as rustls' process-wide crypto provider; a provider already installed
/// stays. [`App::builder`](crate::App::builder) calls it; call it yourself before
/// building an HTTP client earlier than that (a test, a tool).
///
/// ```
/// nets_runtime::install_crypto_provider();
/// nets_runtime::install_crypto_provider(); // once is enough; twice is harmless
/// ```
pub fn install_crypto_provider() {
    #[cfg(feature = "push")]
    let _ = rustls::crypto::ring::default_provider().install_default();
}
