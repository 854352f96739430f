//! Permission codenames: `action` or `app.action` (letters, digits, `_`, `-`), compared
//! case-insensitively, and `role:<name>` for membership roles. The same rule the
//! `#[request_handler(can_do = ..)]` macro applies at compile time.

use std::borrow::Cow;

use super::PermsError;

/// The longest codename (the `nets_permission.codename` column).
pub const MAX_CODENAME_LEN: usize = 150;

/// What a codename asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action<'a> {
    /// A permission, lower-case (borrowed when it already was).
    Permission(Cow<'a, str>),
    /// `role:<name>`: the member's role, compared case-insensitively (trimmed).
    Role(&'a str),
}

/// Parses and validates a codename. Allocates only for a permission written with
/// upper-case letters.
pub(crate) fn parse(codename: &str) -> Result<Action<'_>, PermsError> {
    let invalid = || PermsError::InvalidCodename(codename.to_owned());
    if let Some(role) = codename.strip_prefix("role:") {
        let role = role.trim();
        return if role.is_empty() || role.len() > MAX_CODENAME_LEN { Err(invalid()) } else { Ok(Action::Role(role)) };
    }
    let part = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let valid = codename.len() <= MAX_CODENAME_LEN
        && match codename.split_once('.') {
            Some((app, action)) => part(app) && part(action),
            None => part(codename),
        };
    if !valid {
        return Err(invalid());
    }
    if codename.bytes().any(|b| b.is_ascii_uppercase()) {
        Ok(Action::Permission(Cow::Owned(codename.to_ascii_lowercase())))
    } else {
        Ok(Action::Permission(Cow::Borrowed(codename)))
    }
}

/// A permission codename (not `role:`), lower-cased: for storing.
pub(crate) fn permission(codename: &str) -> Result<String, PermsError> {
    match parse(codename.trim())? {
        Action::Permission(c) => Ok(c.into_owned()),
        Action::Role(_) => Err(PermsError::InvalidCodename(codename.to_owned())),
    }
}

/// The default human name of a codename, as the original wrote it: the action with `_`
/// as spaces, first letter upper-case (`docs.can_publish` → `Can publish`).
pub(crate) fn default_name(codename: &str) -> String {
    let action = codename.rsplit('.').next().unwrap_or(codename).replace(['_', '-'], " ");
    let mut chars = action.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A role name: trimmed, non-empty, at most 150 characters.
pub(crate) fn role_name(name: &str) -> Result<&str, PermsError> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_CODENAME_LEN {
        return Err(PermsError::InvalidRoleName(name.to_owned()));
    }
    Ok(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codenames_are_validated_and_lower_cased() {
        assert_eq!(parse("docs.edit").unwrap(), Action::Permission(Cow::Borrowed("docs.edit")));
        assert_eq!(parse("Docs.Can_Edit").unwrap(), Action::Permission(Cow::Owned("docs.can_edit".into())));
        assert_eq!(parse("publish").unwrap(), Action::Permission(Cow::Borrowed("publish")));
        assert_eq!(parse("role: Editor ").unwrap(), Action::Role("Editor"));
        for bad in ["", "a.b.c", ".edit", "docs.", "docs edit", "docs.édit", "role:", "role:  ", "a;b"] {
            assert!(matches!(parse(bad), Err(PermsError::InvalidCodename(_))), "{bad:?} accepted");
        }
        assert!(parse(&"x".repeat(151)).is_err());
        assert!(permission("role:admin").is_err());
        assert_eq!(permission(" Docs.Edit ").unwrap(), "docs.edit");
    }

    #[test]
    fn default_names_read_like_the_original() {
        assert_eq!(default_name("docs.can_publish"), "Can publish");
        assert_eq!(default_name("archive"), "Archive");
    }

    #[test]
    fn role_names_are_trimmed_and_bounded() {
        assert_eq!(role_name("  editor ").unwrap(), "editor");
        assert!(role_name("   ").is_err());
        assert!(role_name(&"r".repeat(151)).is_err());
    }
}
