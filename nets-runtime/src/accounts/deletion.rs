//! Account deletion: `GET /requestDelete/` (an HTML page for app-store deletion
//! requirements) and `POST /delete/`.
//!
//! The original page could not work (it posted no device, and its code form did
//! nothing) and `/delete/` always failed. Here the page asks `/login/` for a code, then
//! posts the e-mail, the code and `sure` to `/delete/`. `/delete/` takes either a bearer
//! token (apps) or the identifier (the page): in both cases the one-time code, which only
//! the owner of the address receives, is what authorises the deletion.

use axum::response::{Html, IntoResponse, Response};

use super::{Accounts, page_policy};
use crate::oauth::on_pool;
use crate::{ApiError, Ctx};

const DEFAULT_TEMPLATE: &str = include_str!("../../templates/nets_core/accounts/delete_account.html");

impl Accounts {
    /// `GET|POST /requestDelete/`: the page, from `NETS_CORE_DELETE_ACCOUNT_TEMPLATE` (a
    /// minijinja file) when set, with a strict `Content-Security-Policy` (its inline
    /// `<script>` and `<style>` elements allowed by hash, nothing else), `X-Frame-Options:
    /// DENY` and `X-Content-Type-Options: nosniff` (see `page_policy`).
    pub(super) async fn request_page(&self) -> Result<Response, ApiError> {
        let source = match &self.0.delete_template {
            Some(path) => tokio::fs::read_to_string(path).await.map_err(ApiError::internal)?,
            None => DEFAULT_TEMPLATE.to_owned(),
        };
        let mut env = minijinja::Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        let identifier = self.0.users.identifier().column();
        let context = minijinja::context! {
            title => "Delete Account", identifier => identifier, login_url => "../login/", delete_url => "../delete/"
        };
        let html = env.render_str(&source, context).map_err(ApiError::internal)?;
        Ok((page_policy::headers(&html), Html(html)).into_response())
    }

    /// `POST /delete/` once `sure` holds: the signed-in user's account (a bearer token),
    /// or the identifier's (the page), with the one-time `code` that only the owner of
    /// the address receives. The account and everything it owns are deleted, its tokens
    /// revoked.
    pub(super) async fn delete(
        &self,
        ctx: &Ctx,
        code: &str,
        identifier: Option<&str>,
        device_uuid: Option<uuid::Uuid>,
    ) -> Result<(), ApiError> {
        let user = self.account_by_code(ctx, code, identifier, device_uuid).await?;
        self.0.oauth.revoke_user_tokens(user).await.map_err(ApiError::internal)?;
        // Rows the account owns go with it (ON DELETE CASCADE).
        on_pool!(self.0.oauth.db(), |pool| sqlx::query("DELETE FROM nets_user WHERE id = $1")
            .bind(user)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(ApiError::internal)?;
        Ok(())
    }
}
