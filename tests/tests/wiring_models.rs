//! `build()` refuses an endpoint taking the `model = T` object twice: the object is
//! loaded once, so the second argument would find it gone (a 500 at request time). The
//! macro cannot see it, since a model is recognised by its type, which an alias hides.

use nets_runtime::BuildError;
use nets_tests::app;

mod api {
    use nets_runtime::prelude::*;
    use serde::Serialize;

    #[derive(Debug, Clone, Serialize)]
    pub struct Folder {
        pub id: i64,
    }

    impl NetsModel for Folder {
        const TABLE: &'static str = "folders";

        async fn find_by_index(_ctx: &Ctx, _field: &str, value: &str) -> Result<Option<Self>, ApiError> {
            Ok(value.parse().ok().map(|id| Folder { id }))
        }
    }
    nets_runtime::model_argument!(Folder);

    /// The same model under another name: still the model.
    pub type Directory = Folder;

    #[request_handler(path = "folders/{id}/", method = GET, model = Folder)]
    pub async fn show_folder_twice(folder: Folder, again: Directory) -> ApiResult<i64> {
        Ok(folder.id + again.id)
    }
}

mod api_once {
    use nets_runtime::prelude::*;

    use crate::api::{Directory, Folder};

    #[request_handler(path = "folders-once/{id}/", method = GET, model = Folder)]
    pub async fn show_folder(folder: Directory, ctx: Ctx) -> ApiResult<i64> {
        let _ = ctx;
        Ok(folder.id)
    }
}

#[test]
fn a_model_taken_by_two_arguments_is_refused_naming_both() {
    let routes = nets_runtime::build_urlpatterns!(crate::api).expect("routes");
    let err = app(Default::default()).routes(routes).build().expect_err("two model arguments");
    let BuildError::Wiring(problems) = &err else { panic!("expected a wiring error, got {err}") };
    let [problem] = problems.0.as_slice() else { panic!("expected one problem, got {err}") };
    assert!(problem.who.contains("show_folder_twice"), "{err}");
    assert!(problem.needs.contains("one model argument, not 2 (`folder`, `again`)"), "{err}");
}

#[test]
fn a_model_taken_once_through_an_alias_is_accepted() {
    let routes = nets_runtime::build_urlpatterns!(crate::api_once).expect("routes");
    app(Default::default()).routes(routes).build().expect("one model argument");
}
