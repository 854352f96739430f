//! Models: [`NetsModel`] (what `#[request_handler(model = T)]` needs from a model
//! type), [`ToJson`] (field-filtered serialisation, protected fields never leaking), and
//! `#[derive(NetsModel)]`, which implements both from one declaration.

use std::future::Future;

use crate::{ApiError, Ctx};

mod json;
pub(crate) mod lookup;
pub(crate) mod relations;
pub(crate) mod update;

pub use json::{Fields, ModelError, ToJson};
pub use relations::{ForeignKey, RelatedModel, Relation};
pub use update::{ModelColumns, Update};

#[doc = include_str!("../../docs/derive_model.md")]
pub use nets_macros::NetsModel;

/// A type that endpoints can load by an index field and check ownership of.
///
/// With `#[request_handler(model = Invoice)]`, nets reads the index value (default
/// field `id`, or `index_field = ".."`) from the request's parameters, loads the object
/// with [`find_by_index`](Self::find_by_index) and passes it to the handler argument of
/// type `Invoice`:
///
/// * index value missing or empty → 400 naming the field;
/// * nothing found → 404 `{"res": 0, "message": "not found", "data": null}`;
/// * on a private endpoint, an object whose [`owner_id`](Self::owner_id) is not the
///   caller → 404 as well (not 403, so existence is not revealed), unless the `can_do`
///   check passed.
///
/// ```
/// use nets_runtime::prelude::*;
///
/// #[derive(serde::Serialize)]
/// struct Note { id: i64, user_id: i64, text: String }
///
/// impl NetsModel for Note {
///     const TABLE: &'static str = "notes";
///     fn owner_id(&self) -> Option<i64> { Some(self.user_id) }
///     async fn find_by_index(_ctx: &Ctx, _field: &str, value: &str) -> Result<Option<Self>, ApiError> {
///         Ok((value == "1").then(|| Note { id: 1, user_id: 7, text: "hello".into() }))
///     }
/// }
/// // Hand-written models add this line to be handler arguments (the derive does it).
/// nets_runtime::model_argument!(Note);
///
/// #[request_handler(path = "notes/{id}/", method = GET, model = Note)]
/// async fn show_note(note: Note) -> ApiResult<Note> {
///     Ok(note)
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a nets model",
    label = "`model = ..` needs a type implementing `NetsModel`",
    note = "derive it with `#[derive(NetsModel)]` or implement `nets_runtime::NetsModel` by hand"
)]
pub trait NetsModel: Sized + Send + 'static {
    /// Table name, for documentation and diagnostics.
    const TABLE: &'static str;
    /// Field used to find objects when the endpoint gives no `index_field`.
    const INDEX_FIELD: &'static str = "id";

    /// The owning user's id, for objects that have an owner.
    fn owner_id(&self) -> Option<i64> {
        None
    }

    /// The id of the project the object belongs to, for objects that live in a project
    /// (`#[nets(project = "project_id")]`). A permission granted in a project opens only
    /// the objects of that project; without this, only a global grant skips ownership.
    fn project_id(&self) -> Option<i64> {
        None
    }

    /// What loading objects needs from the app that it lacks (checked by
    /// [`AppBuilder::build`](crate::AppBuilder::build) for every `model = T` endpoint);
    /// derived models need a database.
    fn missing(app: &crate::App) -> Option<String> {
        let _ = app;
        None
    }

    /// Loads the object whose `field` equals `value` (text as received).
    fn find_by_index(
        ctx: &Ctx,
        field: &str,
        value: &str,
    ) -> impl Future<Output = Result<Option<Self>, ApiError>> + Send;
}
