//! `/docs`: Swagger UI reading `/openapi.json`. Its assets (utoipa-swagger-ui's, embedded
//! in the binary) are sent as [`Precompressed`] answers: each is compressed once, on its
//! first request (both codings, off the async workers), then served from memory with an
//! `ETag`, and brotli (feature `brotli`) or gzip as the client accepts. Swagger UI's
//! script is 1.4 MB raw.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tokio::sync::OnceCell;
use utoipa_swagger_ui::Config;

use crate::precompressed::Precompressed;
use crate::security_headers::SecurityHeaders;
use crate::{ApiError, App};

/// Where the page lives.
const PREFIX: &str = "/docs/";

/// The page's configuration and the assets answered so far (a name that is no asset is
/// dropped again, so the map is bounded by the embedded files).
struct Assets {
    config: Arc<Config<'static>>,
    security: Option<SecurityHeaders>,
    built: Mutex<HashMap<String, Arc<OnceCell<Precompressed>>>>,
}

/// `/docs` (a redirect to `/docs/`), `/docs/` and its assets.
/// Answers carry `security`, the app's security headers.
pub(crate) fn routes(security: Option<SecurityHeaders>) -> Router<App> {
    let config = Arc::new(Config::from("/openapi.json"));
    let assets = Arc::new(Assets { config, security, built: Mutex::default() });
    let page = {
        let assets = assets.clone();
        get(move |request: Request| {
            let assets = assets.clone();
            async move { assets.answer(request).await }
        })
    };
    Router::new()
        .route("/docs", get(|| async { Redirect::to(PREFIX) }))
        .route(PREFIX, page.clone())
        .route(&format!("{PREFIX}{{*rest}}"), page)
}

impl Assets {
    async fn answer(&self, request: Request) -> Response {
        let name = request.uri().path().strip_prefix(PREFIX).unwrap_or_default();
        let cell = {
            // Held only to find or add the cell: no await under it.
            let Ok(mut built) = self.built.lock() else {
                return ApiError::internal("the /docs cache lock is poisoned").into_response();
            };
            match built.get(name) {
                Some(cell) => cell.clone(),
                None => built.entry(name.to_owned()).or_default().clone(),
            }
        };
        match cell.get_or_try_init(|| build(name.to_owned(), self.config.clone(), self.security.clone())).await {
            Ok(asset) => asset.answer(request.headers()),
            Err(e) => {
                // Not an asset (or it could not be read): its name is not kept, so the map
                // holds only embedded files (and names being looked up right now).
                if let Ok(mut built) = self.built.lock() {
                    built.remove(name);
                }
                e.into_response()
            }
        }
    }
}

/// Reads (`NotFound`: no such asset) and compresses one asset, on a blocking thread (a
/// large script takes a noticeable fraction of a second to compress).
async fn build(
    name: String,
    config: Arc<Config<'static>>,
    security: Option<SecurityHeaders>,
) -> Result<Precompressed, ApiError> {
    let task = tokio::task::spawn_blocking(move || {
        let file = match utoipa_swagger_ui::serve(&name, config) {
            Ok(Some(file)) => file,
            Ok(None) => return Err(ApiError::NotFound),
            Err(e) => return Err(ApiError::internal(format!("Swagger UI asset {name}: {e}"))),
        };
        let content_type =
            HeaderValue::from_str(&file.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
        let text = ["text/", "application/javascript", "application/json", "image/svg"]
            .iter()
            .any(|t| file.content_type.starts_with(t));
        let bytes = match file.bytes {
            std::borrow::Cow::Borrowed(embedded) => bytes::Bytes::from_static(embedded),
            std::borrow::Cow::Owned(made) => bytes::Bytes::from(made),
        };
        // Both codings now, on this blocking thread, rather than on a request's.
        Ok(Precompressed::new(bytes, content_type, text, security).compressed())
    });
    task.await.map_err(|e| ApiError::internal(format!("compressing a Swagger UI asset: {e}")))?
}
