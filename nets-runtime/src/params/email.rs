//! [`Email`]: a validated, lower-cased e-mail address.

use std::fmt;

use serde::{Deserialize, Serialize};
use validator::ValidateEmail;

use super::{CoerceCx, CoerceError, FromParam, ParamSchema, Raw};

/// A syntactically valid e-mail address, lower-cased as a whole (as the original
/// library does) so that `User@X.com` and `user@x.com` are one identity.
///
/// ```
/// use nets_runtime::params::{CoerceCx, Email, FromParam, Raw};
///
/// let e = Email::from_param(Raw::Text(" Ada@Example.COM ".into()), &CoerceCx::default()).unwrap();
/// assert_eq!(e.as_str(), "ada@example.com");
/// assert!(Email::parse("not-an-email").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Validates and normalises an address; `None` when it is not an e-mail address.
    pub fn parse(text: &str) -> Option<Email> {
        let lowered = text.trim().to_lowercase();
        lowered.validate_email().then_some(Email(lowered))
    }
    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
    /// Consumes the wrapper.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromParam for Email {
    const TYPE_NAME: &'static str = "an e-mail address";

    fn from_param(raw: Raw, _: &CoerceCx) -> Result<Self, CoerceError> {
        raw.as_str().and_then(Email::parse).ok_or_else(|| CoerceError::expected(Self::TYPE_NAME, &raw))
    }

    fn schema() -> ParamSchema {
        ParamSchema::string().with_format("email")
    }
}
