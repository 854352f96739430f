//! Client secrets a Django deployment stored hashed: django-oauth-toolkit ≥ 2 keeps
//! `make_password(secret)`, e.g. `pbkdf2_sha256$1000000$<salt>$<base64 sha256>`, so the
//! secret itself is gone. `import-django` stores that text as the application's digest;
//! the first client that presents the right secret proves it, and its nets digest
//! replaces the Django hash (as Django upgrades hashes at login).
//!
//! Only Django's default hasher (PBKDF2-SHA256) is read; an application hashed otherwise
//! is reported by the import and needs a new secret (`createapp --client-id .. `).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq;

/// The algorithm prefix of Django's default password hasher.
const PBKDF2_SHA256: &str = "pbkdf2_sha256";

/// Above Django's own count (1,000,000 in 5.2) with room to grow, low enough that a
/// stored hash cannot make one verification take minutes.
const MAX_ITERATIONS: u32 = 10_000_000;

/// Whether `stored` is a Django password hash (an HMAC hex digest never holds `$`).
pub(crate) fn is_django_hash(stored: &str) -> bool {
    stored.contains('$')
}

/// Whether nets can verify secrets against `stored` (a PBKDF2-SHA256 hash with sane
/// parameters).
pub(crate) fn is_supported(stored: &str) -> bool {
    parse(stored).is_some()
}

struct Pbkdf2<'a> {
    iterations: u32,
    salt: &'a str,
    hash: Vec<u8>,
}

fn parse(stored: &str) -> Option<Pbkdf2<'_>> {
    let mut parts = stored.split('$');
    let (algorithm, iterations, salt, hash) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if algorithm != PBKDF2_SHA256 || parts.next().is_some() || salt.is_empty() {
        return None;
    }
    let iterations: u32 = iterations.parse().ok().filter(|n| (1..=MAX_ITERATIONS).contains(n))?;
    let hash = STANDARD.decode(hash).ok().filter(|h| h.len() == 32)?;
    Some(Pbkdf2 { iterations, salt, hash })
}

/// Whether `secret` matches the Django hash `stored` (constant-time comparison). CPU
/// heavy by design (Django's iteration count): call it off the async threads.
pub(crate) fn verify(secret: &str, stored: &str) -> bool {
    let Some(parsed) = parse(stored) else { return false };
    let mut derived = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(secret.as_bytes(), parsed.salt.as_bytes(), parsed.iterations, &mut derived);
    bool::from(derived.ct_eq(parsed.hash.as_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Django's format (`PBKDF2PasswordHasher.encode` with 1000 iterations), made with
    // Python's hashlib: `pbkdf2_hmac("sha256", b"s3cr3t-client", b"NaClNaClNaCl", 1000)`.
    // The import test checks hashes made by Django itself.
    const DJANGO: &str = "pbkdf2_sha256$1000$NaClNaClNaCl$Hax8Ne/v/ML2j4LUb2+ifTXToBEdz7ds+iXHtFxRUb8=";

    #[test]
    fn a_hash_made_by_django_verifies_its_secret_only() {
        assert!(is_django_hash(DJANGO) && is_supported(DJANGO));
        assert!(verify("s3cr3t-client", DJANGO));
        assert!(!verify("s3cr3t-clienT", DJANGO));
        assert!(!verify("", DJANGO));
    }

    #[test]
    fn other_formats_and_absurd_parameters_are_not_supported() {
        for stored in [
            "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA",
            "pbkdf2_sha1$1000$salt$AAAA",
            "pbkdf2_sha256$0$salt$9mwCXqsQYCsMUjF+y4Z6MdhZvLMU8nUOGxnnlZEgOdA=",
            "pbkdf2_sha256$99999999999$salt$9mwCXqsQYCsMUjF+y4Z6MdhZvLMU8nUOGxnnlZEgOdA=",
            "pbkdf2_sha256$1000$salt$not-base64",
            "pbkdf2_sha256$1000$$9mwCXqsQYCsMUjF+y4Z6MdhZvLMU8nUOGxnnlZEgOdA=",
        ] {
            assert!(!is_supported(stored), "{stored}");
            assert!(!verify("anything", stored), "{stored}");
        }
        assert!(!is_django_hash("4f2a9c"));
    }
}
