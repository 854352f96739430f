//! Recipient filtering: invalid addresses and excluded domains are dropped, the rest
//! kept in order. The original skipped the address after each rejected one (it removed
//! items from the list it iterated) and compared exclusions for exact equality with any
//! address part, so `mailinator*` blocked nothing; both are fixed here.

use crate::params::Email;

use super::outcome::Reason;

/// The recipients left to write to, and what was dropped and why.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Filtered {
    /// Valid, normalised (lower-cased), de-duplicated addresses, in the given order.
    pub(crate) kept: Vec<String>,
    /// Addresses dropped, as given.
    pub(crate) excluded: Vec<String>,
    /// For each dropped address: the exclusion pattern it matched, or the
    /// `invalid_email` text.
    pub(crate) reasons: Vec<String>,
}

impl Filtered {
    /// The original's explanation of what was dropped; empty when nothing was.
    pub(crate) fn explanation(&self) -> String {
        if self.excluded.is_empty() {
            return String::new();
        }
        let list = serde_json::to_string(&self.excluded).unwrap_or_default();
        format!(
            "{}, the following email(s) were excluded: {list} for domain(s): {}",
            Reason::EmailDomainExcluded.text(),
            self.reasons.join(", ")
        )
    }
}

/// Splits `addresses` into the ones to write to and the ones to drop.
pub(crate) fn filter<'a>(addresses: impl IntoIterator<Item = &'a str>, exclude: &[String]) -> Filtered {
    let mut out = Filtered::default();
    for given in addresses {
        let Some(email) = Email::parse(given) else {
            out.excluded.push(given.to_owned());
            out.reasons.push(Reason::InvalidEmail.text().to_owned());
            continue;
        };
        if let Some(pattern) = exclude.iter().find(|p| domain_matches(p, email.domain())) {
            out.excluded.push(given.to_owned());
            out.reasons.push(pattern.clone());
            continue;
        }
        let email = email.into_string();
        if !out.kept.contains(&email) {
            out.kept.push(email);
        }
    }
    out
}

/// Whether `domain` matches an exclusion `pattern`, case-insensitively: exact text, or a
/// glob where `*` stands for any run of characters (`mailinator*`, `*.example.org`).
pub(crate) fn domain_matches(pattern: &str, domain: &str) -> bool {
    let (pattern, domain) = (pattern.trim().to_ascii_lowercase(), domain.to_ascii_lowercase());
    if pattern.is_empty() {
        return false;
    }
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = domain.strip_prefix(first) else { return false };
    let tail: Vec<&str> = parts.collect();
    let Some((last, middle)) = tail.split_last() else {
        return rest.is_empty(); // no `*`: exact match
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn wildcards_match_any_ending_and_exact_entries_match_whole_domains() {
        assert!(domain_matches("mailinator*", "mailinator.com"));
        assert!(domain_matches("mailinator*", "mailinator.org"));
        assert!(domain_matches("MAILINATOR*", "Mailinator.Org"));
        assert!(!domain_matches("mailinator*", "notmailinator.com"));
        assert!(domain_matches("*.example.org", "mx.example.org"));
        assert!(!domain_matches("*.example.org", "example.org"));
        assert!(domain_matches("temp-*.org", "temp-mail.org"));
        assert!(domain_matches("temp-mail.org", "temp-mail.org"));
        assert!(!domain_matches("temp-mail.org", "temp-mail.org.evil"));
        assert!(!domain_matches("", "anything"));
        assert!(domain_matches("*", "anything"));
    }

    #[test]
    fn the_local_part_is_never_compared() {
        // The original compared every part of the address, so `user` blocked `user@x.com`.
        let f = filter(["mailinator@ok.com"], &patterns(&["mailinator*"]));
        assert_eq!(f.kept, vec!["mailinator@ok.com"]);
    }

    #[test]
    fn every_address_is_checked_even_after_a_rejected_one() {
        let f = filter(
            ["a@ok.com", "b@temp-mail.org", "c@temp-mail.org", "", "nope", "d@ok.com", "A@ok.com"],
            &patterns(&["temp-mail.org"]),
        );
        assert_eq!(f.kept, vec!["a@ok.com", "d@ok.com"]);
        assert_eq!(f.excluded, vec!["b@temp-mail.org", "c@temp-mail.org", "", "nope"]);
        let text = f.explanation();
        assert!(text.starts_with("Email domain is in NETS_CORE_EMAIL_EXCLUDE_DOMAINS, the following email(s) were excluded: [\"b@temp-mail.org\""), "{text}");
        assert!(
            text.ends_with("for domain(s): temp-mail.org, temp-mail.org, Invalid email address, Invalid email address"),
            "{text}"
        );
        assert_eq!(filter(["x@ok.com"], &[]).explanation(), "");
    }
}
