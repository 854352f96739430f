//! [`Page`]: pagination as a handler argument, in place of the original's magic
//! `action` key (which added `paginated_by=25` and `page=1` to any request carrying it).

use std::any::Any;

use axum::response::Response;
use serde::Serialize;

use super::RuleError;
use crate::request::Input;
use crate::routing::{ArgKind, Endpoint};
use crate::{App, Ctx, Success};

/// The request keys a [`Page`] reads: the page number, then the size under its two
/// names (`paginated_by` is the original's).
pub(crate) const PAGE_KEYS: [&str; 3] = ["page", "page_size", "paginated_by"];

/// Which page of a list a client asks for: `page` (from 1, default 1) and `page_size`
/// (or the original's `paginated_by`; default `NETS_CORE_PAGE_SIZE`, 25, at most
/// `NETS_CORE_PAGE_SIZE_MAX`, 100: larger sizes are reduced to it). Numbers may come
/// JSON-encoded in strings, as mobile clients send them; a page below 1 or a value that
/// is no number is a 400 naming the key. `/openapi.json` documents both keys.
///
/// [`Page::respond`] answers the items in `data` and the position in `extra`:
///
/// ```
/// use nets_runtime::prelude::*;
/// use nets_runtime::params::Page;
///
/// #[request_handler(path = "doc/numbers/", method = GET, public)]
/// async fn numbers(page: Page) -> ApiResult<Success<Vec<u64>>> {
///     let total = 95;
///     let items = (page.offset()..total).take(page.limit() as usize).collect();
///     // {"res":1,"data":[..],"extra":{"page":2,"page_size":25,"total":95,"pages":4}}
///     Ok(page.respond(items, total))
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Page {
    /// The page number, from 1.
    pub page: u64,
    /// Items per page.
    pub page_size: u64,
}

impl Page {
    /// Rows to skip (`OFFSET`).
    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.page_size)
    }

    /// Rows to take (`LIMIT`).
    pub fn limit(&self) -> u64 {
        self.page_size
    }

    /// How many pages `total` items fill (at least 1: an empty list has one, empty, page).
    pub fn pages(&self, total: u64) -> u64 {
        total.div_ceil(self.page_size).max(1)
    }

    /// `{"res":1,"data":items,"extra":{"page","page_size","total","pages"}}`.
    pub fn respond<T: Serialize>(&self, items: Vec<T>, total: u64) -> Success<Vec<T>> {
        let position = serde_json::json!({
            "page": self.page,
            "page_size": self.page_size,
            "total": total,
            "pages": self.pages(total),
        });
        Success::new(items).extra(position)
    }
}

impl crate::request::HandlerArg for Page {
    const KIND: ArgKind = ArgKind::Page;

    fn extract(
        input: &mut Input,
        _: usize,
        _: impl FnOnce(&Self, &Ctx) -> Result<(), RuleError>,
    ) -> Option<Option<Self>> {
        input.page().map(Some)
    }

    fn resolve(read: Option<Self>, _: &mut Input, _: &mut (dyn Any + Send)) -> Result<Self, Response> {
        read.ok_or_else(|| axum::response::IntoResponse::into_response(crate::ApiError::internal("page lost")))
    }

    fn missing(_: &Endpoint, _: &App) -> Option<String> {
        None
    }
}
