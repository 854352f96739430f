//! The social login endpoints: `#[request_handler]`s like any app's (common pipeline,
//! `Missing params`, the JSON 405, `/openapi.json`), with the original's paths, names and
//! order (the legacy Google endpoint, then Apple, Facebook, Microsoft, GitHub, Google).

use serde_json::Value;

use super::exchange::Grant;
use super::{Provider, Social, SocialError, link};
use crate::accounts::Accounts;
use crate::{ApiError, ApiResult, App, Ctx, FieldErrors, Settings, State, request_handler};

/// The bodies are a handful of short fields and a token.
fn small_body(_: &App) -> usize {
    32 * 1024
}

/// The longest token read (ID tokens are 1–2 KB; provider access tokens shorter).
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// What proves the user: a token the app got itself, or an authorization code for nets
/// to exchange (the web-app flow).
enum Credential<'a> {
    Token(&'a str),
    Code(Grant<'a>),
}

impl<'a> Credential<'a> {
    /// `token`, or `code` with its `redirect_uri` (and PKCE `code_verifier`); which is
    /// missing is named like any missing parameter.
    fn read(
        token: &'a Option<String>,
        code: &'a Option<String>,
        redirect_uri: &'a Option<String>,
        code_verifier: &'a Option<String>,
    ) -> Result<Credential<'a>, ApiError> {
        let given = |v: &'a Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty());
        match (given(token), given(code), given(redirect_uri)) {
            (Some(token), _, _) => Ok(Credential::Token(token)),
            (None, Some(code), Some(redirect_uri)) => {
                Ok(Credential::Code(Grant { code, redirect_uri, verifier: given(code_verifier) }))
            }
            (None, Some(_), None) => Err(missing("redirect_uri", "required with code")),
            (None, None, _) => Err(missing("token", "this parameter is required (or code and redirect_uri)")),
        }
    }
}

fn missing(field: &str, problem: &str) -> ApiError {
    let mut errors = FieldErrors::new();
    errors.insert(field.to_owned(), vec![problem.to_owned()]);
    ApiError::BadRequest { message: format!("Missing params: {field}"), errors }
}

impl Credential<'_> {
    /// A token longer than any provider's is refused before anything else.
    fn check_size(&self) -> Result<(), ApiError> {
        match self {
            Credential::Token(token) if token.len() > MAX_TOKEN_BYTES => {
                Err(ApiError::field("token", format!("at most {MAX_TOKEN_BYTES} bytes")))
            }
            _ => Ok(()),
        }
    }
}

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
async fn login(
    ctx: &Ctx,
    social: &Social,
    provider: Provider,
    credential: Credential<'_>,
    login: Login<'_>,
) -> ApiResult<Value> {
    credential.check_size()?;
    let accounts = &social.0.accounts;
    accounts.limit_login_per_ip(ctx).await?;
    let device = accounts.read_device(login.device)?;
    // The client first: a wrong one learns nothing and changes nothing, and the provider
    // is never called on its behalf.
    let app = accounts.authenticate_client(login.client_id, login.client_secret).await?;
    let mut identity = verify(social, provider, credential, login.nonce).await.map_err(|e| e.into_api(provider))?;
    let (first, last) = login.names;
    identity.first_name = identity.first_name.or(first.filter(|n| !n.trim().is_empty()));
    identity.last_name = identity.last_name.or(last.filter(|n| !n.trim().is_empty()));
    let db = accounts.oauth().db();
    let user = link::account(db, provider, &identity, social.0.unverified).await?;
    let answer = accounts.finish_login(user, &app, device).await?;
    social.queue_avatar(user, identity.picture.as_deref()).await;
    Ok(answer)
}

/// The provider's word on `credential`: a code is exchanged first, and what comes back
/// is checked exactly like a token the client sent.
async fn verify(
    social: &Social,
    provider: Provider,
    credential: Credential<'_>,
    nonce: Option<&str>,
) -> Result<super::Identity, SocialError> {
    let inner = &social.0;
    let title = provider.title();
    match (provider, credential) {
        (Provider::Google, Credential::Token(token)) => inner.google.verify(token, nonce).await,
        (Provider::Apple, Credential::Token(token)) => inner.apple.verify(token, nonce).await,
        (Provider::Microsoft, Credential::Token(token)) => inner.microsoft.verify(token, nonce).await,
        // A JWT is a Limited Login ID token; anything else a Graph access token.
        (Provider::Facebook, Credential::Token(token)) if token.split('.').count() == 3 => {
            inner.facebook.check_configured()?;
            inner.facebook_limited.verify(token, nonce).await
        }
        (Provider::Facebook, Credential::Token(token)) => inner.facebook.verify(token).await,
        (Provider::Github, Credential::Token(token)) => inner.github.verify(token).await,
        (Provider::Google, Credential::Code(grant)) => {
            inner.google.check_configured()?;
            let id_token = inner.google_code.exchange(title, grant).await?.id_token;
            inner.google.verify(&id_token.ok_or_else(no_id_token)?, nonce).await
        }
        (Provider::Microsoft, Credential::Code(grant)) => {
            inner.microsoft.check_configured()?;
            let id_token = inner.microsoft_code.exchange(title, grant).await?.id_token;
            inner.microsoft.verify(&id_token.ok_or_else(no_id_token)?, nonce).await
        }
        (Provider::Facebook, Credential::Code(grant)) => {
            inner.facebook.check_configured()?;
            inner.facebook.verify(&inner.facebook_code.exchange(title, grant).await?.access_token).await
        }
        (Provider::Github, Credential::Code(grant)) => {
            inner.github.check_configured()?;
            inner.github.verify(&inner.github_code.exchange(title, grant).await?.access_token).await
        }
        (Provider::Apple, Credential::Code(_)) => {
            Err(SocialError::Invalid("Apple logins send the identity token, not a code".into()))
        }
    }
}

fn no_id_token() -> SocialError {
    SocialError::Invalid("the token endpoint sent no id_token".into())
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

/// The endpoints that take a token or, in the web-app flow, a code: the same
/// parameters and flow, one declaration each (their paths, names and order are the
/// original's).
macro_rules! token_or_code_login {
    ($(#[$doc:meta])* $path:literal, $name:literal, $handler:ident, $provider:ident, $what:literal) => {
        $(#[$doc])*
        #[request_handler(path = $path, name = $name, methods = [POST], public, body_limit = small_body, tags = ["nets_core_auth"])]
        #[allow(clippy::too_many_arguments)]
        async fn $handler(
            ctx: Ctx,
            social: State<Social>,
            #[param(secret, description = $what)] token: Option<String>,
            client_id: String,
            #[param(secret, description = "None for a public client")] client_secret: Option<String>,
            #[param(description = "The device, as for /login/")] device: Option<Value>,
            #[param(secret, description = "Web-app flow: the authorization code, exchanged by the server")]
            code: Option<String>,
            #[param(description = "Web-app flow: the redirect_uri the code was issued for")]
            redirect_uri: Option<String>,
            #[param(secret, description = "Web-app flow: the PKCE code verifier")] code_verifier: Option<String>,
            #[param(secret, description = "The raw nonce an ID token is bound to")] nonce: Option<String>,
        ) -> ApiResult<Value> {
            let credential = Credential::read(&token, &code, &redirect_uri, &code_verifier)?;
            let with_nonce = Login { nonce: nonce.as_deref(), ..plain(&client_id, &client_secret, &device) };
            login(&ctx, &social, Provider::$provider, credential, with_nonce).await
        }
    };
}

token_or_code_login! {
    /// The original's legacy Google endpoint: the same as `/loginWithGoogleSocial/` (its
    /// mixed-up name fields are not reproduced).
    "loginWithGoogle/",
    "loginWithGoogle",
    login_with_google,
    Google,
    "A Google ID token (or, in the web-app flow, code and redirect_uri)"
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
    login(&ctx, &social, Provider::Apple, Credential::Token(&token), login_with).await
}

token_or_code_login! {
    /// Logs in with a Facebook user access token of `FACEBOOK_APP_ID`.
    "loginWithFacebook/",
    "loginWithFacebook",
    login_with_facebook,
    Facebook,
    "A Facebook user access token (or, in the web-app flow, code and redirect_uri)"
}

token_or_code_login! {
    /// Logs in with a Microsoft identity platform ID token (`aud` one of
    /// `MICROSOFT_CLIENT_ID`). A Graph access token alone is refused: it cannot prove
    /// which app it was issued to.
    "loginWithMicrosoft/",
    "loginWithMicrosoft",
    login_with_microsoft,
    Microsoft,
    "A Microsoft ID token (or, in the web-app flow, code and redirect_uri)"
}

token_or_code_login! {
    /// Logs in with a GitHub token of the OAuth app `GITHUB_CLIENT_ID`.
    "loginWithGithub/",
    "loginWithGithub",
    login_with_github,
    Github,
    "A GitHub OAuth token (or, in the web-app flow, code and redirect_uri)"
}

token_or_code_login! {
    /// Logs in with a Google ID token (`aud` one of `GOOGLE_CLIENT_ID`).
    "loginWithGoogleSocial/",
    "loginWithGoogleSocial",
    login_with_google_social,
    Google,
    "A Google ID token (or, in the web-app flow, code and redirect_uri)"
}

/// The account's identifier parameter, as `/delete/` takes it (`email` or `username`,
/// as `NETS_CORE_USER_IDENTIFIER` says).
fn identifier(settings: &Settings) -> Option<&'static str> {
    Some(settings.user_identifier.column())
}

/// `provider`, one of the stored names.
fn provider_named(name: &str) -> Result<Provider, ApiError> {
    Provider::from_name(name.trim())
        .ok_or_else(|| ApiError::field("provider", "one of google, apple, facebook, microsoft, github"))
}

/// Links a provider identity to an account: `provider` (`google`, `apple`, `facebook`,
/// `microsoft`, `github`) and its `token` (or, in the web-app flow, `code`,
/// `redirect_uri` and `code_verifier`; `nonce` as for a login), verified exactly as a
/// login verifies it, and the account's one-time `verification_code` (from `/login/`),
/// which proves the account as `/delete/`'s does: the signed-in user's (bearer token), or
/// the identifier's. A stolen bearer token alone cannot plant a way in. The identity then
/// logs into this account whatever its provider says of the address: the way in for one
/// refused with `email_not_verified`. One linked to another account is refused
/// (`identity_in_use`); linking again refreshes the link. Answers the provider and the
/// address it gave.
#[request_handler(path = "linkSocial/", name = "linkSocial", methods = [POST], public, body_limit = small_body, tags = ["nets_core_auth"])]
#[allow(clippy::too_many_arguments)]
async fn link_social(
    ctx: Ctx,
    social: State<Social>,
    #[param(description = "google, apple, facebook, microsoft or github")] provider: String,
    #[param(secret, description = "The provider's token, as its login endpoint takes it")] token: Option<String>,
    #[param(secret, description = "Web-app flow: the authorization code")] code: Option<String>,
    #[param(description = "Web-app flow: the redirect_uri the code was issued for")] redirect_uri: Option<String>,
    #[param(secret, description = "Web-app flow: the PKCE code verifier")] code_verifier: Option<String>,
    #[param(secret, description = "The raw nonce an ID token is bound to")] nonce: Option<String>,
    #[param(secret, description = "The account's one-time code, sent by /login/")] verification_code: String,
    #[param(name_from = identifier, description = "Without a bearer token: the account's identifier")]
    identifier: Option<String>,
    device_uuid: Option<String>,
) -> ApiResult<Value> {
    let social: &Social = &social;
    let provider = provider_named(&provider)?;
    let credential = Credential::read(&token, &code, &redirect_uri, &code_verifier)?;
    credential.check_size()?;
    let device_uuid = Accounts::device_uuid(device_uuid.as_deref())?;
    let accounts = &social.0.accounts;
    accounts.limit_login_per_ip(&ctx).await?;
    // The account first: a wrong code is counted, and the provider never called.
    let user = accounts.account_by_code(&ctx, verification_code.trim(), identifier.as_deref(), device_uuid).await?;
    let identity = verify(social, provider, credential, nonce.as_deref()).await.map_err(|e| e.into_api(provider))?;
    link::link_to(accounts.oauth().db(), provider, &identity, user).await?;
    social.queue_avatar(user, identity.picture.as_deref()).await;
    Ok(serde_json::json!({"provider": provider.as_str(), "email": identity.email}))
}

/// Unlinks the signed-in account's identity at `provider`: it no longer logs in here
/// (the account's e-mail code always does). Answers how many links were removed (0 or 1).
#[request_handler(path = "unlinkSocial/", name = "unlinkSocial", methods = [POST], body_limit = small_body, tags = ["nets_core_auth"])]
async fn unlink_social(
    ctx: Ctx,
    social: State<Social>,
    #[param(description = "google, apple, facebook, microsoft or github")] provider: String,
) -> ApiResult<Value> {
    let (user, social): (i64, &Social) = (ctx.require_user()?.id, &social);
    let provider = provider_named(&provider)?;
    let removed = link::unlink(social.0.accounts.oauth().db(), provider, user).await?;
    Ok(serde_json::json!({"provider": provider.as_str(), "unlinked": removed}))
}
