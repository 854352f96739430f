//! What [`send`](super::EmailBuilder::send) answers: the original's `(sent, reason,
//! description)` triple, with the reason as an enum whose codes are the original's.

use std::fmt;

/// Why an e-mail was or was not sent. [`code`](Reason::code) is the original's reason
/// string, which clients and logs may already match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// `invalid_email`: an address is empty or not an address. Named in descriptions; a
    /// send where every address is invalid answers [`EmptyEmail`](Reason::EmptyEmail).
    InvalidEmail,
    /// `email_domain_excluded`: an address's domain is in
    /// `NETS_CORE_EMAIL_EXCLUDE_DOMAINS`. Named in descriptions, like `invalid_email`.
    EmailDomainExcluded,
    /// `empty_email`: no recipient is left to write to.
    EmptyEmail,
    /// `template_not_found`: the template (or one it extends or includes) does not exist.
    TemplateNotFound,
    /// `template_syntax_error`: the template does not compile or fails to render.
    TemplateSyntaxError,
    /// `template_or_html_required`: neither a template nor HTML was given.
    TemplateOrHtmlRequired,
    /// `email_not_sent`: the transport refused or failed.
    EmailNotSent,
    /// `email_sent`: handed to the transport.
    EmailSent,
    /// `email_in_queue`: stored in `nets_email_notification` and queued for a worker.
    EmailInQueue,
    /// `email_disabled`: `DEBUG` is on, `NETS_CORE_EMAIL_DEBUG_ENABLED` off and the send
    /// was not forced.
    EmailDisabled,
    /// `invalid_attachment`: an attachment has no usable file name or a malformed type.
    InvalidAttachment,
}

impl Reason {
    /// The original's reason code, e.g. `"email_sent"`.
    pub const fn code(self) -> &'static str {
        match self {
            Reason::InvalidEmail => "invalid_email",
            Reason::EmailDomainExcluded => "email_domain_excluded",
            Reason::EmptyEmail => "empty_email",
            Reason::TemplateNotFound => "template_not_found",
            Reason::TemplateSyntaxError => "template_syntax_error",
            Reason::TemplateOrHtmlRequired => "template_or_html_required",
            Reason::EmailNotSent => "email_not_sent",
            Reason::EmailSent => "email_sent",
            Reason::EmailInQueue => "email_in_queue",
            Reason::EmailDisabled => "email_disabled",
            Reason::InvalidAttachment => "invalid_attachment",
        }
    }

    /// The original's description text for this reason (the start of
    /// [`Outcome::description`]).
    pub const fn text(self) -> &'static str {
        match self {
            Reason::InvalidEmail => "Invalid email address",
            Reason::EmailDomainExcluded => "Email domain is in NETS_CORE_EMAIL_EXCLUDE_DOMAINS",
            Reason::EmptyEmail => "Email is empty",
            Reason::TemplateNotFound => "Template does not exist",
            Reason::TemplateSyntaxError => "Template syntax error",
            Reason::TemplateOrHtmlRequired => "template or html content for send_email is required",
            Reason::EmailNotSent => "Email wasn't sent",
            Reason::EmailSent => "Email sent",
            Reason::EmailInQueue => "Email in queue.",
            Reason::EmailDisabled => "emails are disabled while debug is true in settings",
            Reason::InvalidAttachment => "Invalid attachment format",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The result of a send: the original's `(sent, reason, description)`.
///
/// ```
/// use nets_runtime::mail::{Outcome, Reason};
///
/// let outcome = Outcome::new(false, Reason::EmptyEmail, "Email is empty");
/// let (sent, code, description) = outcome.clone().into_tuple();
/// assert_eq!((sent, code, description.as_str()), (false, "empty_email", "Email is empty"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the message was handed to the transport or queued.
    pub sent: bool,
    /// Why.
    pub reason: Reason,
    /// Human-readable detail: the reason's text, then what was excluded or failed.
    pub description: String,
    /// The `nets_email_notification` rows of a queued e-mail, one per recipient.
    pub notification_ids: Vec<i64>,
}

impl Outcome {
    /// An outcome without a queue row.
    pub fn new(sent: bool, reason: Reason, description: impl Into<String>) -> Outcome {
        Outcome { sent, reason, description: description.into(), notification_ids: Vec::new() }
    }

    /// A failure: `reason`'s text, then `detail` when there is one.
    pub(crate) fn failed(reason: Reason, detail: &str) -> Outcome {
        Outcome::new(false, reason, join(reason.text(), detail))
    }

    /// The original's triple.
    pub fn into_tuple(self) -> (bool, &'static str, String) {
        (self.sent, self.reason.code(), self.description)
    }
}

/// `text` and `detail` separated by a space, `text` alone when `detail` is empty.
pub(crate) fn join(text: &str, detail: &str) -> String {
    if detail.is_empty() { text.to_owned() } else { format!("{text} {detail}") }
}
