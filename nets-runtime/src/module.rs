//! [`Module`]: how a part of an application (nets' accounts, OAuth and permissions, or
//! your own) is installed in one call.
//!
//! A module contributes through the public [`AppBuilder`] like any app does: its state
//! (read by its endpoints as [`State<T>`](crate::State)), its endpoints (ordinary
//! `#[request_handler]`s, so they share the pipeline, the envelope, the route registry
//! and `/openapi.json`), an authenticator or permission checker when the app has none,
//! and startup checks. [`AppBuilder::build`] then checks the whole wiring.

use crate::AppBuilder;

/// A part of an application installed with [`AppBuilder::install`].
///
/// ```
/// use nets_runtime::prelude::*;
/// use nets_runtime::routing::Routes;
///
/// mod greeter {
///     use nets_runtime::prelude::*;
///
///     #[derive(Clone)]
///     pub struct Greeter { pub greeting: String }
///
///     #[request_handler(path = "greet/", method = GET, public)]
///     async fn greet(greeter: State<Greeter>, name: String) -> ApiResult<String> {
///         Ok(format!("{} {name}", greeter.greeting))
///     }
/// }
///
/// impl Module for greeter::Greeter {
///     fn install(self, app: AppBuilder) -> AppBuilder {
///         // Conflicts are reported by `build()`, with everything else.
///         let routes: Routes = build_urlpatterns!(self::greeter).unwrap_or_default();
///         app.state(self).routes(routes)
///     }
/// }
///
/// let app = App::builder(Settings::default())
///     .install(greeter::Greeter { greeting: "hello".into() })
///     .build()
///     .unwrap();
/// assert!(app.endpoints().any(|e| e.path == "greet/"));
/// ```
pub trait Module {
    /// Adds the module's state, routes, authenticator and checks to `app`. Keep what the
    /// app set itself: check [`AppBuilder::has_authenticator`] before providing one.
    fn install(self, app: AppBuilder) -> AppBuilder;
}

/// The endpoints a built-in module declares under `module` (`nets_runtime::accounts`);
/// conflicts are reported by [`AppBuilder::build`].
#[cfg(feature = "db")]
pub(crate) fn builtin_routes(module: &str) -> crate::routing::Routes {
    use crate::routing::{ModuleFilter, Routes};
    Routes::of(crate::routing::select(&[ModuleFilter::absolute(module)]))
}
