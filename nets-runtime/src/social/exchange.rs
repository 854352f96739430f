//! The web-app flow: instead of a token, the client sends the authorization `code` its
//! redirect received, the `redirect_uri` it used and its PKCE `code_verifier`, and
//! nets exchanges them at the provider's token endpoint itself (RFC 6749 §4.1.3,
//! RFC 7636), with the `oauth2` crate and the app's own client credentials. What comes
//! back goes through the same checks as a token sent directly: the ID token (Google,
//! Microsoft) or the access token (GitHub, Facebook).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, AuthorizationCode, ClientId, ClientSecret, ExtraTokenFields, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use super::SocialError;

/// What an authorization-code login sends.
pub(crate) struct Grant<'a> {
    pub code: &'a str,
    pub redirect_uri: &'a str,
    pub verifier: Option<&'a str>,
}

/// The OpenID Connect `id_token` next to the access token.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

type Answer = StandardTokenResponse<IdTokenField, BasicTokenType>;

/// What the token endpoint gave.
pub(crate) struct Exchanged {
    pub access_token: String,
    pub id_token: Option<String>,
}

/// One provider's token endpoint and the app's credentials there.
pub(crate) struct Exchange {
    http: reqwest::Client,
    client_id: String,
    client_secret: String,
    token_url: String,
}

impl Exchange {
    pub(crate) fn new(http: reqwest::Client, client_id: &str, client_secret: &str, token_url: &str) -> Exchange {
        Exchange {
            http,
            client_id: client_id.trim().to_owned(),
            client_secret: client_secret.to_owned(),
            token_url: token_url.trim().to_owned(),
        }
    }

    /// Exchanges `grant` for the provider's tokens.
    pub(crate) async fn exchange(&self, provider: &'static str, grant: Grant<'_>) -> Result<Exchanged, SocialError> {
        if self.client_id.is_empty() || self.client_secret.is_empty() {
            return Err(SocialError::NotConfigured(provider));
        }
        let token_url = TokenUrl::new(self.token_url.clone()).map_err(|_| SocialError::NotConfigured(provider))?;
        let redirect = RedirectUrl::new(grant.redirect_uri.trim().to_owned())
            .map_err(|_| SocialError::Invalid("redirect_uri is not a URL".into()))?;
        let client = oauth2::Client::<
            BasicErrorResponse,
            Answer,
            BasicTokenIntrospectionResponse,
            StandardRevocableToken,
            BasicRevocationErrorResponse,
        >::new(ClientId::new(self.client_id.clone()))
        .set_client_secret(ClientSecret::new(self.client_secret.clone()))
        // In the form body: GitHub and Facebook read them only there.
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(token_url);
        let mut request = client
            .exchange_code(AuthorizationCode::new(grant.code.trim().to_owned()))
            .set_redirect_uri(Cow::Owned(redirect));
        if let Some(verifier) = grant.verifier.map(str::trim).filter(|v| !v.is_empty()) {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()));
        }
        let answer = request.request_async(&Http(self.http.clone())).await.map_err(|e| match e {
            RequestTokenError::ServerResponse(refusal) => {
                SocialError::Invalid(format!("the provider refused the code ({})", refusal.error()))
            }
            // GitHub answers refusals with 200 and `{"error": ..}`, which is not a token.
            RequestTokenError::Parse(_, body) if is_refusal(&body) => {
                SocialError::Invalid("the provider refused the code".into())
            }
            RequestTokenError::Request(e) => SocialError::unreachable(e),
            RequestTokenError::Parse(..) | RequestTokenError::Other(_) => {
                SocialError::Unavailable("its token endpoint answered something that is not a token".into())
            }
        })?;
        Ok(Exchanged {
            access_token: answer.access_token().secret().clone(),
            id_token: answer.extra_fields().id_token.clone(),
        })
    }
}

/// The `oauth2` crate's HTTP hook on nets' reqwest client (no redirects, timeouts). A
/// type rather than a closure: its future must be `Send` for every lifetime, which
/// handlers need and closures borrowing the caller do not give.
struct Http(reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for Http {
    type Error = reqwest::Error;
    type Future = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, reqwest::Error>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        let client = self.0.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response =
                client.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body).send().await?;
            let (status, headers) = (response.status(), response.headers().clone());
            let mut answer = http::Response::new(response.bytes().await?.to_vec());
            *answer.status_mut() = status;
            *answer.headers_mut() = headers;
            Ok(answer)
        })
    }
}

/// Whether a body is an OAuth error object (`{"error": ".."}`).
fn is_refusal(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v.get("error").is_some_and(|e| e.is_string()))
}
