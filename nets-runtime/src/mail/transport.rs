//! Where messages go: SMTP (lettre: STARTTLS or implicit TLS with rustls/ring, AUTH,
//! a connection pool) in production; the console or `.eml` files in development.

use std::path::PathBuf;
use std::time::Duration;

use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::MailError;
use crate::Settings;

/// A message transport, chosen by `EMAIL_BACKEND` ([`Transport::from_settings`]).
#[derive(Clone)]
#[non_exhaustive]
pub enum Transport {
    /// An SMTP server (`EMAIL_BACKEND = "smtp"`), connections pooled.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a directory (`EMAIL_BACKEND = "file"`, `EMAIL_FILE_PATH`).
    File(AsyncFileTransport<Tokio1Executor>),
    /// Standard output (`EMAIL_BACKEND = "console"`, the default in `DEBUG` without
    /// `EMAIL_HOST`): nothing leaves the machine, and everything lands in its logs.
    Console,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Smtp(_) => "Transport::Smtp",
            Transport::File(_) => "Transport::File",
            Transport::Console => "Transport::Console",
        })
    }
}

impl Transport {
    /// The transport the settings name.
    ///
    /// * `smtp` (the default when `EMAIL_HOST` is set): `EMAIL_HOST` (`localhost` when
    ///   unset):`EMAIL_PORT`; `EMAIL_USE_SSL` for implicit TLS, `EMAIL_USE_TLS` to require
    ///   STARTTLS, otherwise STARTTLS when the server offers it; AUTH with
    ///   `EMAIL_HOST_USER`/`EMAIL_HOST_PASSWORD` when a user is set; `EMAIL_TIMEOUT` per
    ///   command; `NETS_CORE_EMAIL_POOL_SIZE` pooled connections.
    /// * `file`: one `<uuid>.eml` per message in `EMAIL_FILE_PATH` (created if missing).
    /// * `console` (the default in `DEBUG` without `EMAIL_HOST`): messages printed to
    ///   standard output. Outside `DEBUG` it is refused unless
    ///   `NETS_CORE_EMAIL_CONSOLE_ALLOWED` is set: login codes would land in the logs.
    ///
    /// Outside `DEBUG`, with neither `EMAIL_BACKEND` nor `EMAIL_HOST`, there is no safe
    /// default: an error says to set one.
    ///
    /// The SMTP pool runs on Tokio: build it inside a Tokio runtime (outside one, this is
    /// an error rather than a panic).
    ///
    /// ```
    /// use nets_runtime::Settings;
    /// use nets_runtime::mail::Transport;
    ///
    /// # #[tokio::main] async fn main() {
    /// let smtp = Settings::from_toml("EMAIL_HOST = 'mail.example.com'\nEMAIL_PORT = 587\nEMAIL_USE_TLS = true").unwrap();
    /// assert!(matches!(Transport::from_settings(&smtp).unwrap(), Transport::Smtp(_)));
    /// let dev = Settings::from_toml("DEBUG = true").unwrap();
    /// assert!(matches!(Transport::from_settings(&dev).unwrap(), Transport::Console));
    /// let production = Settings::from_toml("EMAIL_BACKEND = 'console'").unwrap();
    /// assert!(Transport::from_settings(&production).is_err(), "codes would be printed");
    /// let bad = Settings::from_toml("EMAIL_BACKEND = 'carrier-pigeon'").unwrap();
    /// assert!(Transport::from_settings(&bad).is_err());
    /// # }
    /// ```
    pub fn from_settings(settings: &Settings) -> Result<Transport, MailError> {
        match backend(settings)? {
            "console" => Ok(Transport::Console),
            "file" => {
                let dir = PathBuf::from(&settings.email_file_path);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| MailError::Config(format!("EMAIL_FILE_PATH {}: {e}", dir.display())))?;
                Ok(Transport::File(AsyncFileTransport::new(dir)))
            }
            "smtp" => smtp(settings).map(Transport::Smtp),
            other => Err(MailError::Config(format!("EMAIL_BACKEND '{other}' is not one of 'smtp', 'console', 'file'"))),
        }
    }

    /// Hands `message` to the transport.
    pub(crate) async fn send(&self, message: Message) -> Result<(), String> {
        match self {
            Transport::Smtp(smtp) => smtp.send(message).await.map(drop).map_err(|e| e.to_string()),
            Transport::File(file) => file.send(message).await.map(drop).map_err(|e| e.to_string()),
            Transport::Console => {
                let text = String::from_utf8_lossy(&message.formatted()).into_owned();
                println!("----- e-mail (EMAIL_BACKEND=console) -----\n{text}\n-----");
                Ok(())
            }
        }
    }
}

/// The backend `EMAIL_BACKEND` names, or the default it leaves to `EMAIL_HOST` and
/// `DEBUG`; `console` outside `DEBUG` only when explicitly allowed.
fn backend(settings: &Settings) -> Result<&str, MailError> {
    let named = settings.email_backend.trim();
    let backend = match named {
        "" if !settings.email_host.trim().is_empty() => "smtp",
        "" if settings.debug => "console",
        "" => {
            return Err(MailError::Config(
                "no e-mail backend outside DEBUG: set EMAIL_HOST (SMTP) or EMAIL_BACKEND".into(),
            ));
        }
        named => named,
    };
    if backend == "console" && !settings.debug && !settings.email_console_allowed {
        return Err(MailError::Config(
            "EMAIL_BACKEND 'console' prints every e-mail, login codes included, to standard output: outside \
             DEBUG set NETS_CORE_EMAIL_CONSOLE_ALLOWED = true to allow it, or configure SMTP (EMAIL_HOST)"
                .into(),
        ));
    }
    Ok(backend)
}

fn smtp(s: &Settings) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    // lettre's pool spawns a Tokio task when built, and panics without a runtime.
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(MailError::Config("the SMTP transport must be built inside a Tokio runtime".into()));
    }
    // Django's default host when the backend is named without one.
    let host = match s.email_host.trim() {
        "" => "localhost",
        host => host,
    };
    if s.email_use_tls && s.email_use_ssl {
        return Err(MailError::Config("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive: choose one".into()));
    }
    let tls_parameters = || {
        TlsParameters::new(host.to_owned()).map_err(|e| MailError::Config(format!("TLS for EMAIL_HOST {host}: {e}")))
    };
    let tls = if s.email_use_ssl {
        Tls::Wrapper(tls_parameters()?)
    } else if s.email_use_tls {
        Tls::Required(tls_parameters()?)
    } else {
        Tls::Opportunistic(tls_parameters()?)
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(s.email_port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(s.email_timeout.max(1))))
        .pool_config(PoolConfig::new().max_size(s.email_pool_size.max(1)));
    if !s.email_host_user.is_empty() {
        builder =
            builder.credentials(Credentials::new(s.email_host_user.clone(), s.email_host_password.expose().to_owned()));
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_outside_a_runtime_is_an_error_not_a_panic() {
        let s = Settings::from_toml("EMAIL_BACKEND = 'smtp'").unwrap();
        let err = Transport::from_settings(&s).unwrap_err();
        assert!(err.to_string().contains("inside a Tokio runtime"), "{err}");
    }

    #[tokio::test]
    async fn settings_choose_the_transport() {
        let smtp = Settings::from_toml("EMAIL_BACKEND = 'smtp'\nEMAIL_USE_SSL = true\nEMAIL_PORT = 465").unwrap();
        assert!(matches!(Transport::from_settings(&smtp), Ok(Transport::Smtp(_))));
        let named_without_host = Settings::from_toml("EMAIL_BACKEND = 'smtp'\nEMAIL_HOST = ' '").unwrap();
        assert!(matches!(Transport::from_settings(&named_without_host), Ok(Transport::Smtp(_))), "localhost");
    }

    #[tokio::test]
    async fn the_default_backend_is_smtp_with_a_host_console_only_in_debug() {
        let with_host = Settings::from_toml("EMAIL_HOST = 'mail.example.com'").unwrap();
        assert!(matches!(Transport::from_settings(&with_host), Ok(Transport::Smtp(_))));
        let debug = Settings::from_toml("DEBUG = true").unwrap();
        assert!(matches!(Transport::from_settings(&debug), Ok(Transport::Console)));
        // Production without mail settings: no default, rather than printing codes.
        let err = Transport::from_settings(&Settings::default()).unwrap_err().to_string();
        assert!(err.contains("set EMAIL_HOST"), "{err}");
        let console = Settings::from_toml("EMAIL_BACKEND = 'console'").unwrap();
        let err = Transport::from_settings(&console).unwrap_err().to_string();
        assert!(err.contains("NETS_CORE_EMAIL_CONSOLE_ALLOWED"), "{err}");
        let allowed = Settings::from_toml("EMAIL_BACKEND = 'console'\nNETS_CORE_EMAIL_CONSOLE_ALLOWED = true").unwrap();
        assert!(matches!(Transport::from_settings(&allowed), Ok(Transport::Console)));
        let debug_console = Settings::from_toml("EMAIL_BACKEND = 'console'\nDEBUG = true").unwrap();
        assert!(matches!(Transport::from_settings(&debug_console), Ok(Transport::Console)));
    }
}
