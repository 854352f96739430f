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
    ///
    /// The rules are Django's `EmailValidator`, which the original used: the WHATWG
    /// syntax, and a domain that is `localhost`, an address literal (`[127.0.0.1]`), or
    /// has a top-level label of 2 to 63 letters, digits or hyphens (not ending in one).
    /// So `a@b` and `a@127.0.0.1` are not addresses, as mail cannot reach them.
    ///
    /// ```
    /// use nets_runtime::params::Email;
    ///
    /// assert!(Email::parse("email@here.com").is_some());
    /// assert!(Email::parse("email@localhost").is_some());
    /// assert!(Email::parse("a@b").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Email> {
        let lowered = text.trim().to_lowercase();
        let (_, domain) = lowered.rsplit_once('@')?;
        (lowered.validate_email() && deliverable_domain(domain)).then_some(Email(lowered))
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

/// Django's domain rule on top of the WHATWG syntax `validator` checks: `localhost`, an
/// address literal, or a dotted name whose last label is 2 to 63 characters of letters
/// (any non-ASCII character too: internationalised TLDs), digits and hyphens, not
/// ending in a hyphen.
fn deliverable_domain(domain: &str) -> bool {
    if domain == "localhost" || (domain.starts_with('[') && domain.ends_with(']')) {
        return true;
    }
    let Some((_, tld)) = domain.rsplit_once('.') else { return false };
    (2..=63).contains(&tld.chars().count())
        && tld.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
        && !tld.ends_with('-')
        && !tld.chars().all(|c| c.is_ascii_digit())
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

#[cfg(test)]
mod tests {
    use super::Email;

    /// Cases of Django's own `EmailValidator` tests (tests/validators/tests.py).
    #[test]
    fn addresses_are_judged_as_django_does() {
        let valid = [
            "email@here.com",
            "weirder-email@here.and.there.com",
            "email@[127.0.0.1]",
            "example@valid-----hyphens.com",
            "example@valid-with-hyphens.com",
            "test@domain.with.idn.tld.उदाहरण.परीक्षा",
            "email@localhost",
            "a@b.co",
        ];
        for address in valid {
            assert!(Email::parse(address).is_some(), "{address} is valid");
        }
        let invalid = [
            "a@b",
            "email@127.0.0.1",
            "email@domain.c",
            "abc@.com",
            "something@@somewhere.com",
            "example@invalid-.com",
            "example@-invalid.com",
            "example@invalid.com-",
            "example@inv-.alid-.com",
            "trailingdot@shouldfail.com.",
            // (Surrounding whitespace is trimmed, so Django's "a@b.com\n" is accepted.)
            "a\n@b.com",
            "test@example.com\n\n<script src=\"x.js\">",
            "",
            "@example.com",
        ];
        for address in invalid {
            assert!(Email::parse(address).is_none(), "{address:?} is invalid");
        }
    }
}
