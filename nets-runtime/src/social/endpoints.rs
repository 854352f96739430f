//! The social login endpoints: `#[request_handler]`s like any app's (common pipeline,
//! `Missing params`, the JSON 405, `/openapi.json`), with the original's paths, names and
//! order (the legacy Google endpoint, then Apple, Facebook, Microsoft, GitHub, Google).

use serde_json::Value;

use super::{Provider, Social, link};
use crate::{ApiError, ApiResult, App, Ctx, State, request_handler};

/// The bodies are a handful of short fields and a token.
fn small_body(_: &App) -> usize {
    32 * 1024
}

/// The longest token read (ID tokens are 1–2 KB; provider access tokens shorter).
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// What a login sends besides the token.
struct Login<'a> {
    client_id: &'a str,
    client_secret: Option<&'a str>,
    device: Option<&'a Value>,
    /// Apple: the raw nonce, and the name Apple gives the app only once.
    nonce: Option<&'a str>,
    names: (Option<String>, Option<String>),
}

/// The common flow (see the module notes): budget, client, provider, account, tokens.
async fn login(ctx: &Ctx, social: &Social, provider: Provider, token: &str, login: Login<'_>) -> ApiResult<Value> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(ApiError::field("token", format!("at most {MAX_TOKEN_BYTES} bytes")));
    }
    let accounts = &social.0.accounts;
    accounts.limit_login_per_ip(ctx).await?;
    let device = accounts.read_device(login.device)?;
    // The client first: a wrong one learns nothing and changes nothing, and the provider
    // is never called on its behalf.
    let app = accounts.authenticate_client(login.client_id, login.client_secret).await?;
    let token = token.trim();
    let inner = &social.0;
    let verified = match provider {
        Provider::Google => inner.google.verify(token, None).await,
        Provider::Apple => inner.apple.verify(token, login.nonce).await,
        Provider::Microsoft => inner.microsoft.verify(token, None).await,
        Provider::Facebook => inner.facebook.verify(token).await,
        Provider::Github => inner.github.verify(token).await,
    };
    let mut identity = verified.map_err(|e| e.into_api(provider))?;
    let (first, last) = login.names;
    identity.first_name = identity.first_name.or(first.filter(|n| !n.trim().is_empty()));
    identity.last_name = identity.last_name.or(last.filter(|n| !n.trim().is_empty()));
    let db = accounts.oauth().db();
    let user = link::account(db, provider, &identity, inner.unverified).await?;
    accounts.finish_login(user, &app, device).await
}

fn plain<'a>(client_id: &'a str, client_secret: &'a Option<String>, device: &'a Option<Value>) -> Login<'a> {
    Login {
        client_id,
        client_secret: client_secret.as_deref(),
        device: device.as_ref(),
        nonce: None,
        names: (None, None),
    }
}

/// The original's legacy Google endpoint: the same as `/loginWithGoogleSocial/` (its
/// mixed-up name fields are not reproduced).
#[request_handler(path = "loginWithGoogle/", name = "loginWithGoogle", methods = [POST], public, body_limit = small_body, tags = ["nets_core_auth"])]
async fn login_with_google(
    ctx: Ctx,
    social: State<Social>,
    #[param(secret, description = "A Google ID token")] token: String,
    client_id: String,
    #[param(secret, description = "None for a public client")] client_secret: Option<String>,
    #[param(description = "The device, as for /login/")] device: Option<Value>,
) -> ApiResult<Value> {
    login(&ctx, &social, Provider::Google, &token, plain(&client_id, &client_secret, &device)).await
}

/// Logs in with an Apple identity token (`aud` one of `APPLE_CLIENT_ID`). Apple gives
/// the user's name to the app only, on the first sign-in: send it as
/// `first_name`/`last_name`. `nonce`: the raw nonce whose SHA-256 the app gave Apple.
#[request_handler(path = "loginWithApple/", name = "loginWithApple", methods = [POST], public, body_limit = small_body, tags = ["nets_core_auth"])]
#[allow(clippy::too_many_arguments)]
async fn login_with_apple(
    ctx: Ctx,
    social: State<Social>,
    #[param(secret, description = "An Apple identity token")] token: String,
    client_id: String,
    #[param(secret, description = "None for a public client")] client_secret: Option<String>,
    #[param(description = "The device, as for /login/")] device: Option<Value>,
    first_name: Option<String>,
    last_name: Option<String>,
    #[param(secret)] nonce: Option<String>,
) -> ApiResult<Value> {
    let login_with =
        Login { nonce: nonce.as_deref(), names: (first_name, last_name), ..plain(&client_id, &client_secret, &device) };
    login(&ctx, &social, Provider::Apple, &token, login_with).await
}

/// Logs in with a Facebook user access token of `FACEBOOK_APP_ID`.
#[request_handler(path = "loginWithFacebook/", name = "loginWithFacebook", methods = [POST], public, body_limit = small_body, tags = ["nets_core_auth"])]
async fn login_with_facebook(
    ctx: Ctx,
    social: State<Social>,
    #[param(secret, description = "A Facebook user access token")] token: String,
    client_id: String,
    #[param(secret, description = "None for a public client")] client_secret: Option<String>,
    #[param(description = "The device, as for /login/")] device: Option<Value>,
) -> ApiResult<Value> {
    login(&ctx, &social, Provider::Facebook, &token, plain(&client_id, &client_secret, &device)).await
}

/// Logs in with a Microsoft identity platform ID token (`aud` one of
/// `MICROSOFT_CLIENT_ID`). A Graph access token alone is refused: it cannot prove
/// which app it was issued to.
#[request_handler(path = "loginWithMicrosoft/", name = "loginWithMicrosoft", methods = [POST], public, body_limit = small_body, tags = ["nets_core_auth"])]
async fn login_with_microsoft(
    ctx: Ctx,
    social: State<Social>,
    #[param(secret, description = "A Microsoft ID token")] token: String,
    client_id: String,
    #[param(secret, description = "None for a public client")] client_secret: Option<String>,
    #[param(description = "The device, as for /login/")] device: Option<Value>,
) -> ApiResult<Value> {
    login(&ctx, &social, Provider::Microsoft, &token, plain(&client_id, &client_secret, &device)).await
}

/// Logs in with a GitHub token of the OAuth app `GITHUB_CLIENT_ID`.
#[request_handler(path = "loginWithGithub/", name = "loginWithGithub", methods = [POST], public, body_limit = small_body, tags = ["nets_core_auth"])]
async fn login_with_github(
    ctx: Ctx,
    social: State<Social>,
    #[param(secret, description = "A GitHub OAuth token")] token: String,
    client_id: String,
    #[param(secret, description = "None for a public client")] client_secret: Option<String>,
    #[param(description = "The device, as for /login/")] device: Option<Value>,
) -> ApiResult<Value> {
    login(&ctx, &social, Provider::Github, &token, plain(&client_id, &client_secret, &device)).await
}

/// Logs in with a Google ID token (`aud` one of `GOOGLE_CLIENT_ID`).
#[request_handler(path = "loginWithGoogleSocial/", name = "loginWithGoogleSocial", methods = [POST], public, body_limit = small_body, tags = ["nets_core_auth"])]
async fn login_with_google_social(
    ctx: Ctx,
    social: State<Social>,
    #[param(secret, description = "A Google ID token")] token: String,
    client_id: String,
    #[param(secret, description = "None for a public client")] client_secret: Option<String>,
    #[param(description = "The device, as for /login/")] device: Option<Value>,
) -> ApiResult<Value> {
    login(&ctx, &social, Provider::Google, &token, plain(&client_id, &client_secret, &device)).await
}
