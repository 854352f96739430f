//! The push endpoints, `#[request_handler]`s like every endpoint: the app's pipeline
//! and authenticator, the route registry, `/openapi.json`. Installing [`Push`] serves
//! them.
//!
//! * `POST push/token/`: register or refresh the caller's device push token;
//! * `GET|POST push/notifications/`: the caller's notifications, newest first, paginated;
//! * `POST push/notifications/read/`: mark some (`ids`) or all (`all`) of them read.

use serde::Serialize;
use uuid::Uuid;

use super::Push;
use super::inbox::{self, InboxItem};
use crate::params::Page;
use crate::{ApiError, ApiResult, App, Ctx, State, Success, request_handler};

/// These endpoints take a few short fields.
const MAX_BODY_BYTES: usize = 16 * 1024;

fn small_body(_: &App) -> usize {
    MAX_BODY_BYTES
}

/// The database of the notification rows (the one `Push` was built with).
fn db_of(push: &Push) -> Result<&crate::db::Db, ApiError> {
    push.db().map_err(ApiError::internal)
}

/// The device that now holds the token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenRegistered {
    /// The device's uuid (as `/login/` answers it).
    pub device_uuid: Uuid,
    /// Always `true`: registering a token makes the device receive pushes again.
    pub active: bool,
}

/// Registers or refreshes the caller's device push token (FCM registration token).
/// Call it whenever the app gets a new token. The device is `device_uuid`, else the
/// caller's device already holding the token, else a new device; the token is removed
/// from any other device that had it, and the device becomes active again.
#[request_handler(path = "push/token/", name = "push_register_token", method = POST, body_limit = small_body, tags = ["nets_push"])]
async fn register_token(
    ctx: Ctx,
    push: State<Push>,
    #[param(
        validate(length(min = 1, max = 4096), regex = "^[A-Za-z0-9_:.-]+$"),
        description = "The FCM registration token the app got"
    )]
    firebase_token: String,
    #[param(description = "The device (from /login/'s device_uuid); default: found by token or created")]
    device_uuid: Option<Uuid>,
    #[param(validate(length(max = 250)), description = "A name for a new device")] name: Option<String>,
) -> ApiResult<TokenRegistered> {
    let user = ctx.require_user()?.id;
    let uuid = super::devices::register(db_of(&push)?, user, &firebase_token, device_uuid, name.as_deref()).await?;
    Ok(TokenRegistered { device_uuid: uuid, active: true })
}

/// The caller's notifications, newest first: every one stored for them, whether or not
/// a device received it. Paged (`page`, `page_size`): the position is in `extra`.
#[request_handler(path = "push/notifications/", name = "push_notifications", methods = [GET, POST], body_limit = small_body, tags = ["nets_push"])]
async fn notifications(
    ctx: Ctx,
    push: State<Push>,
    page: Page,
    #[param(default = false, description = "Only those not marked read")] unread: bool,
) -> ApiResult<Success<Vec<InboxItem>>> {
    let user = ctx.require_user()?.id;
    // Both fit: `page_size` is bounded by NETS_CORE_PAGE_SIZE_MAX, and an offset past
    // i64 simply finds nothing.
    let limit = i64::try_from(page.limit()).unwrap_or(i64::MAX);
    let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
    let (items, total) = inbox::page(db_of(&push)?, user, unread, limit, offset).await?;
    Ok(page.respond(items, u64::try_from(total).unwrap_or(0)))
}

/// How many notifications changed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MarkedRead {
    /// Notifications marked read now (already read, unknown or someone else's: not counted).
    pub marked: u64,
}

/// Marks the caller's notifications `ids` read, or all of them with `all`.
#[request_handler(path = "push/notifications/read/", name = "push_mark_read", method = POST, body_limit = small_body, tags = ["nets_push"])]
async fn mark_read(
    ctx: Ctx,
    push: State<Push>,
    #[param(validate(length(min = 1, max = 500)), description = "Notification ids")] ids: Option<Vec<i64>>,
    #[param(default = false, description = "Mark every notification read")] all: bool,
) -> ApiResult<MarkedRead> {
    let user = ctx.require_user()?.id;
    let ids = match (ids, all) {
        (Some(_), true) => return Err(ApiError::bad_request("send either ids or all, not both")),
        (None, false) => return Err(ApiError::field("ids", "send the ids to mark read, or all = true")),
        (ids, _) => ids,
    };
    let marked = inbox::mark_read(db_of(&push)?, user, ids.as_deref()).await?;
    Ok(MarkedRead { marked })
}
