//! The e-mails of a login: the code, and "new access to your account". Both go through
//! the mail queue, so a slow SMTP server never delays (or times) the answer.

use serde_json::{Map, Value, json};

use super::Accounts;

impl Accounts {
    /// Queues the code e-mail to `address`. Failures are logged, never answered: the
    /// answer must not tell whether an address receives mail.
    pub(super) async fn send_code(&self, address: &str, code: &str) {
        let Some(mailer) = &self.0.mailer else { return };
        let outcome = mailer
            .email("Your verification code")
            .to(address)
            .template("nets_core/email/verification_code.html")
            .context(json!({"code": code}))
            .send()
            .await;
        tracing::debug!(?outcome, "verification code e-mail");
    }

    /// Queues the new-login e-mail to the user's address.
    pub(super) async fn send_new_login(&self, _user: i64, user: &Map<String, Value>) {
        let Some(mailer) = &self.0.mailer else { return };
        let Some(address) = user.get("email").and_then(Value::as_str).filter(|a| !a.is_empty()) else { return };
        let outcome = mailer
            .email("New access to your account")
            .to(address)
            .template("nets_core/email/new_login.html")
            .context(json!({"user": user}))
            .send()
            .await;
        tracing::debug!(?outcome, "new login e-mail");
    }
}
