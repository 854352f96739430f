//! Foreign keys expanded by [`ToJson::to_json_in`]: `#[nets(references = User)]` on a
//! field `user_id` makes `user` selectable, serialised as the related model's JSON.
//!
//! The original nested related fields into a spec string and never applied protected
//! fields to them (SEED §6.3, §16): a device's nested `user` showed `password`. Here a
//! related object is serialised by its own [`ToJson`], so its protected fields and the
//! global list always apply.

use serde_json::Value;

use super::{Fields, ToJson};
use crate::auth::BoxFuture;
use crate::{ApiError, Ctx, NetsModel};

/// Relations deeper than this are left as their key (a cycle such as a user's
/// `invited_by` user would otherwise load row after row).
pub(crate) const MAX_DEPTH: u8 = 3;

/// One foreign key of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relation {
    /// The selectable name: the column without its `_id` suffix (`user`).
    pub key: &'static str,
    /// The column holding the related row's index (`user_id`).
    pub column: &'static str,
}

/// A column that refers to another model's index: its value as the index text, `None`
/// for `NULL`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a foreign key",
    label = "`references = ..` needs an integer, `String` or `uuid::Uuid` column (or an `Option` of one)"
)]
pub trait ForeignKey {
    /// The related row's index value as text.
    fn key_text(&self) -> Option<String>;
}

macro_rules! foreign_keys {
    ($($ty:ty),*) => {$(
        impl ForeignKey for $ty {
            fn key_text(&self) -> Option<String> {
                Some(self.to_string())
            }
        }
    )*};
}
foreign_keys!(i16, i32, i64, u32, String, uuid::Uuid);

impl<K: ForeignKey> ForeignKey for Option<K> {
    fn key_text(&self) -> Option<String> {
        self.as_ref().and_then(ForeignKey::key_text)
    }
}

/// `<T as RelatedModel>::Model` is `T` for models that can be referenced: generated code
/// names the target through it, so a wrong type is reported once, on `references = T`.
/// `#[derive(NetsModel)]` implements it; a hand-written model implements it as
/// `impl RelatedModel for T { type Model = T; }`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be referenced: it is not a nets model",
    label = "`references = ..` needs a type deriving `NetsModel`",
    note = "derive it with `#[derive(NetsModel)]`"
)]
pub trait RelatedModel {
    /// `T` itself.
    type Model: NetsModel + ToJson + Sync;
}

/// Loads the `R` whose index equals `key` ([`ForeignKey::key_text`]) and serialises
/// its default fields.
pub fn expand<'a, R: NetsModel + ToJson + Sync>(
    ctx: &'a Ctx,
    key: Option<String>,
    depth: u8,
) -> BoxFuture<'a, Result<Value, ApiError>> {
    Box::pin(async move {
        let Some(key) = key else {
            return Ok(Value::Null);
        };
        match R::find_by_index(ctx, R::INDEX_FIELD, &key).await? {
            None => Ok(Value::Null),
            Some(related) => related.to_json_depth(ctx, Fields::Default, depth).await.map(Value::Object),
        }
    })
}

/// A relation name the model does not have (never produced by the derive's own calls).
pub fn unknown_relation<'a, M: NetsModel>(key: &str) -> BoxFuture<'a, Result<Value, ApiError>> {
    let error = ApiError::internal(format!("model table '{}' has no relation '{key}'", M::TABLE));
    Box::pin(std::future::ready(Err(error)))
}
