//! [`ToJson`]: a model as a JSON object of chosen fields, protected fields never included.
//!
//! This replaces the original `to_json()` (SEED §6.3) and fixes its leaks (§16 items 15,
//! 19, 35): field names are compared exactly (case-insensitively for protection, never
//! as substrings), the model's `protected` list *and* the global
//! `NETS_CORE_PROTECTED_FIELDS` always apply, and an unknown name is an error instead
//! of being dropped, or (for names ending in `_id`) passed on unchecked.

use serde_json::{Map, Value};

use crate::{ApiError, Settings};

/// Which fields [`ToJson::to_json`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fields<'a> {
    /// The model's `json_fields` (every field when it declares none).
    #[default]
    Default,
    /// These fields, in this order. An empty list means [`Fields::Default`], and the
    /// one-element list `["__all__"]` means [`Fields::All`], as in the original.
    Only(&'a [&'a str]),
    /// Every field of the model (`"__all__"`).
    All,
}

/// Why a model could not be turned into JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A requested field is not a field of the model. A 400 naming it.
    #[error("unknown field '{0}'")]
    UnknownField(String),
    /// A requested field is protected (by the model or `NETS_CORE_PROTECTED_FIELDS`).
    /// On the wire it reads exactly like [`UnknownField`](Self::UnknownField), so a
    /// client cannot learn which protected columns exist.
    #[error("field '{0}' is protected")]
    ProtectedField(String),
    /// The model did not serialise to a JSON object. A 500.
    #[error("model did not serialise to a JSON object: {0}")]
    Serialize(String),
}

impl From<ModelError> for ApiError {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::UnknownField(name) | ModelError::ProtectedField(name) => {
                ApiError::field("fields", format!("unknown field '{name}'"))
            }
            ModelError::Serialize(_) => ApiError::internal(e),
        }
    }
}

/// A model that serialises to a JSON object of selected fields. Implemented by
/// `#[derive(NetsModel)]`, which fills in the three lists from the struct and its
/// `#[nets(json_fields(..), protected(..))]` keys.
///
/// ```
/// use nets_runtime::{Fields, Settings, ToJson};
///
/// #[derive(serde::Serialize)]
/// struct User { id: i64, email: String, password: String }
///
/// impl ToJson for User {
///     const FIELDS: &'static [&'static str] = &["id", "email", "password"];
///     const JSON_FIELDS: &'static [&'static str] = &["id", "email"];
///     const PROTECTED_FIELDS: &'static [&'static str] = &[];
/// }
///
/// let user = User { id: 1, email: "ada@example.com".into(), password: "x".into() };
/// let settings = Settings::default(); // protects `password` among others
/// let all = user.to_json(&settings, Fields::All).unwrap();
/// assert!(all.contains_key("email") && !all.contains_key("password"));
/// assert!(user.to_json(&settings, Fields::Only(&["password"])).is_err());
/// ```
pub trait ToJson: serde::Serialize {
    /// Every field, in struct order (the serialised key of each).
    const FIELDS: &'static [&'static str];
    /// The fields returned by [`Fields::Default`]; empty means every field.
    const JSON_FIELDS: &'static [&'static str];
    /// Fields never returned, on top of `NETS_CORE_PROTECTED_FIELDS`.
    const PROTECTED_FIELDS: &'static [&'static str];

    /// Whether `name` is protected, by this model or by `settings` (exact name, any case).
    fn is_protected(settings: &Settings, name: &str) -> bool {
        let global = settings.protected_fields.iter().map(String::as_str);
        Self::PROTECTED_FIELDS.iter().copied().chain(global).any(|p| p.eq_ignore_ascii_case(name))
    }

    /// The selected fields as a JSON object, inserted in the requested order
    /// ([`Fields::Only`]) or struct order. (`serde_json::Map` keeps that order only when
    /// serde_json's `preserve_order` feature is on; otherwise keys are sorted.)
    ///
    /// Protected fields are left out of [`Fields::Default`] and [`Fields::All`];
    /// asking for one by name is [`ModelError::ProtectedField`], and for a name that is
    /// not a field, [`ModelError::UnknownField`] (both a 400 through `?`).
    fn to_json(&self, settings: &Settings, fields: Fields<'_>) -> Result<Map<String, Value>, ModelError> {
        let selected = select::<Self>(settings, fields)?;
        let mut all = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            Ok(other) => return Err(ModelError::Serialize(format!("got {other}"))),
            Err(e) => return Err(ModelError::Serialize(e.to_string())),
        };
        let mut out = Map::new();
        for name in selected {
            // A field serde skipped (`skip_serializing_if`) is simply absent.
            if let Some(value) = all.remove(name) {
                out.insert(name.to_owned(), value);
            }
        }
        Ok(out)
    }
}

/// The names [`ToJson::to_json`] returns, checked, in output order, without repeats.
fn select<'a, M: ToJson + ?Sized>(settings: &Settings, fields: Fields<'a>) -> Result<Vec<&'a str>, ModelError> {
    let open =
        |names: &'static [&'static str]| names.iter().copied().filter(|n| !M::is_protected(settings, n)).collect();
    match fields {
        Fields::Only([]) | Fields::Default if M::JSON_FIELDS.is_empty() => Ok(open(M::FIELDS)),
        Fields::Only([]) | Fields::Default => Ok(open(M::JSON_FIELDS)),
        Fields::Only(["__all__"]) | Fields::All => Ok(open(M::FIELDS)),
        Fields::Only(names) => {
            let mut out: Vec<&str> = Vec::with_capacity(names.len());
            for &name in names {
                if M::is_protected(settings, name) {
                    return Err(ModelError::ProtectedField(name.to_owned()));
                }
                if !M::FIELDS.contains(&name) {
                    return Err(ModelError::UnknownField(name.to_owned()));
                }
                if !out.contains(&name) {
                    out.push(name);
                }
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(serde::Serialize)]
    struct Account {
        id: i64,
        email: String,
        password: String,
        is_superuser: bool,
        api_secret: String,
        nickname: Option<String>,
    }

    impl ToJson for Account {
        const FIELDS: &'static [&'static str] = &["id", "email", "password", "is_superuser", "api_secret", "nickname"];
        const JSON_FIELDS: &'static [&'static str] = &["id", "email"];
        const PROTECTED_FIELDS: &'static [&'static str] = &["API_SECRET"];
    }

    #[derive(serde::Serialize)]
    struct Tag {
        id: i64,
        label: String,
        superuser_note: String,
    }

    impl ToJson for Tag {
        const FIELDS: &'static [&'static str] = &["id", "label", "superuser_note"];
        const JSON_FIELDS: &'static [&'static str] = &[];
        const PROTECTED_FIELDS: &'static [&'static str] = &[];
    }

    fn account() -> Account {
        Account {
            id: 1,
            email: "ada@example.com".into(),
            password: "pbkdf2$...".into(),
            is_superuser: true,
            api_secret: "s3cret".into(),
            nickname: None,
        }
    }

    fn json_of<M: ToJson>(m: &M, fields: Fields<'_>) -> Result<Value, ModelError> {
        m.to_json(&Settings::default(), fields).map(Value::Object)
    }

    #[test]
    fn default_fields_are_the_declared_json_fields() {
        assert_eq!(json_of(&account(), Fields::Default).unwrap(), json!({"id": 1, "email": "ada@example.com"}));
        assert_eq!(json_of(&account(), Fields::Only(&[])).unwrap(), json!({"id": 1, "email": "ada@example.com"}));
    }

    #[test]
    fn without_json_fields_default_is_every_field() {
        let tag = Tag { id: 3, label: "red".into(), superuser_note: "n".into() };
        // Exact-name protection: `superuser_note` is not `is_superuser` (the original's
        // substring match dropped it).
        assert_eq!(json_of(&tag, Fields::Default).unwrap(), json!({"id": 3, "label": "red", "superuser_note": "n"}));
    }

    #[test]
    fn all_is_every_unprotected_field() {
        let expected = json!({"id": 1, "email": "ada@example.com", "nickname": null});
        assert_eq!(json_of(&account(), Fields::All).unwrap(), expected);
        assert_eq!(json_of(&account(), Fields::Only(&["__all__"])).unwrap(), expected);
    }

    #[test]
    fn only_returns_the_requested_fields_once() {
        let got = account().to_json(&Settings::default(), Fields::Only(&["nickname", "id", "nickname"])).unwrap();
        assert_eq!(Value::Object(got.clone()), json!({"id": 1, "nickname": null}));
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn protected_fields_never_leak_and_asking_is_an_error() {
        for name in ["password", "PASSWORD", "is_superuser", "api_secret", "Api_Secret"] {
            let err = json_of(&account(), Fields::Only(&["id", name])).unwrap_err();
            assert_eq!(err, ModelError::ProtectedField(name.to_owned()));
        }
        for fields in [Fields::Default, Fields::All, Fields::Only(&["__all__"])] {
            let text = json_of(&account(), fields).unwrap().to_string();
            assert!(!text.contains("pbkdf2") && !text.contains("s3cret") && !text.contains("superuser"), "{text}");
        }
    }

    #[test]
    fn the_global_list_comes_from_settings() {
        let settings = Settings::from_toml("NETS_CORE_PROTECTED_FIELDS = ['email']").unwrap();
        let got = account().to_json(&settings, Fields::All).unwrap();
        // `password` is no longer globally protected here; `api_secret` still is (model).
        assert_eq!(
            Value::Object(got),
            json!({"id": 1, "password": "pbkdf2$...", "is_superuser": true, "nickname": null})
        );
        let err = account().to_json(&settings, Fields::Only(&["EMAIL"])).unwrap_err();
        assert_eq!(err, ModelError::ProtectedField("EMAIL".into()));
    }

    #[test]
    fn unknown_names_are_errors_not_dropped() {
        for name in ["user_id", "id OR 1=1", "password_id", "__all__ ", "Email"] {
            let err = json_of(&account(), Fields::Only(&[name])).unwrap_err();
            assert_eq!(err, ModelError::UnknownField(name.to_owned()));
        }
        let err = json_of(&account(), Fields::Only(&["__all__", "id"])).unwrap_err();
        assert_eq!(err, ModelError::UnknownField("__all__".into()));
    }

    #[test]
    fn errors_are_400s_that_name_the_field_and_do_not_reveal_protection() {
        let unknown = ApiError::from(ModelError::UnknownField("nope".into()));
        let protected = ApiError::from(ModelError::ProtectedField("password".into()));
        assert_eq!(unknown.status().as_u16(), 400);
        assert_eq!(protected.to_string(), "invalid value for parameter 'fields': unknown field 'password'");
        assert_eq!(ApiError::from(ModelError::Serialize("x".into())).status().as_u16(), 500);
    }
}
