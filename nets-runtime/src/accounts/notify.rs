//! The e-mails of a login: the code (sent directly, never stored) and "new access to
//! your account" (through the mail queue). Neither delays the answer: the code is sent
//! by the task that runs after it.

use serde_json::{Map, Value, json};

use super::Accounts;

impl Accounts {
    /// Sends the code e-mail to `address`, now and never through the queue: a queued row
    /// would keep the code in clear in `nets_email_notification` (and in every backup).
    /// Runs after the answer, so a slow server delays nobody; a failed send is tried
    /// twice more (after 1 and 3 s). Failures are logged, never answered: the answer must
    /// not tell whether an address receives mail.
    pub(super) async fn send_code(&self, address: &str, code: &str) {
        let Some(mailer) = &self.0.mailer else { return };
        for (attempt, pause) in [0u64, 1, 3].into_iter().enumerate() {
            tokio::time::sleep(std::time::Duration::from_secs(pause)).await;
            let outcome = mailer
                .email("Your verification code")
                .to(address)
                .template("nets_core/email/verification_code.html")
                .context(json!({"code": code}))
                .sensitive(true)
                .send()
                .await;
            if outcome.sent || outcome.reason != crate::mail::Reason::EmailNotSent {
                tracing::debug!(?outcome, "verification code e-mail");
                return;
            }
            tracing::warn!(attempt, description = %outcome.description, "verification code e-mail not sent");
        }
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
