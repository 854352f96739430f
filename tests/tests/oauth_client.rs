//! A standard OAuth 2.0 client, the `oauth2` crate, against nets' `POST /o/token/`
//! (refresh grant) and `POST /o/revoke_token/`: what a third-party client library sends
//! nets must accept, and what nets answers it must understand, including the RFC 6749
//! §5.2 error codes. SQLite by default, PostgreSQL when `NETS_TEST_DATABASE_URL` is set.

use nets_runtime::db::Db;
use nets_runtime::oauth::{ClientType, NewApplication, OAuth, Tokens};
use nets_runtime::prelude::*;
use nets_tests::TestServer;
use nets_tests::db::{TestDb, test_db};
use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenType};
use oauth2::{
    AccessToken, AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse,
    RefreshToken, RequestTokenError, RevocationUrl, StandardRevocableToken, TokenResponse, TokenUrl,
};
use serde_json::{Value, json};

/// Who the bearer token belongs to.
#[request_handler(path = "me/", method = GET)]
async fn me(ctx: Ctx) -> ApiResult<Value> {
    Ok(json!({"id": ctx.require_user()?.id}))
}

/// A client with nets' token and revocation endpoints.
type Client = BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet, EndpointSet>;

/// oauth2 5 is written against reqwest 0.12; this sends its requests with the
/// workspace's reqwest 0.13, never following redirects (a token request must not be
/// replayed to another host).
///
/// The client insists on `https://` endpoints (RFC 7009 §2), and nets is deployed behind
/// a TLS-terminating proxy; this transport plays that proxy for the loopback test
/// server, sending `https://127.0.0.1:<port>` requests to it over plain HTTP.
async fn send(request: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
    // rustls (nets' push client) needs its crypto provider before any client.
    nets_runtime::install_crypto_provider();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let (parts, body) = request.into_parts();
    let uri = parts.uri.to_string();
    let uri = match uri.strip_prefix("https://127.0.0.1:") {
        Some(rest) => format!("http://127.0.0.1:{rest}"),
        None => panic!("the test client only talks to the loopback server: {uri}"),
    };
    let response = client.request(parts.method, uri).headers(parts.headers).body(body).send().await?;
    let mut answer = oauth2::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        answer = answer.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    Ok(answer.body(body).unwrap_or_else(|e| panic!("response from parts that came from a response: {e}")))
}

struct Fixture {
    server: TestServer,
    oauth: OAuth,
    app: NewApplication,
    user: i64,
    _db: TestDb,
}

impl Fixture {
    async fn new() -> Fixture {
        let db = test_db().await;
        let settings = nets_tests::settings("SECRET_KEY = 'oauth client test-xxxxxxxxxxxxxx'");
        let oauth = OAuth::from_settings(&settings, &db.db).await.expect("SECRET_KEY is set");
        let app = App::builder(settings).database(db.db.clone()).authenticator(oauth.bearer());
        let server = TestServer::start(
            app.install(oauth.clone()).routes(build_urlpatterns!().unwrap()).build().expect("app").router(),
        )
        .await;
        let client = oauth.create_application("third party", ClientType::Confidential).await.unwrap();
        let user: i64 = match &db.db {
            Db::Sqlite(pool) => sqlx::query_scalar("INSERT INTO nets_user (email) VALUES ('ada@x.io') RETURNING id")
                .fetch_one(pool)
                .await
                .unwrap(),
            Db::Postgres(pool) => sqlx::query_scalar("INSERT INTO nets_user (email) VALUES ('ada@x.io') RETURNING id")
                .fetch_one(pool)
                .await
                .unwrap(),
        };
        Fixture { server, oauth, app: client, user, _db: db }
    }

    fn client(&self, secret: &str, auth: AuthType) -> Client {
        BasicClient::new(ClientId::new(self.app.client_id.clone()))
            .set_client_secret(ClientSecret::new(secret.to_owned()))
            .set_auth_type(auth)
            .set_token_uri(TokenUrl::new(self.https_url("/o/token/")).unwrap())
            .set_revocation_url(RevocationUrl::new(self.https_url("/o/revoke_token/")).unwrap())
    }

    /// The server's URL as a client behind TLS sees it (see [`send`]).
    fn https_url(&self, path: &str) -> String {
        let url = self.server.url(path);
        let rest = url.strip_prefix("http://").unwrap_or_else(|| panic!("test server URL {url}"));
        format!("https://{rest}")
    }

    fn secret(&self) -> &str {
        self.app.client_secret.as_deref().expect("confidential")
    }

    async fn login(&self) -> Tokens {
        self.oauth.generate_tokens(self.user, self.app.id, None).await.unwrap()
    }

    async fn me(&self, token: &str) -> u16 {
        self.server.send(self.server.get("/me/").bearer_auth(token)).await.status
    }
}

#[tokio::test]
async fn a_standard_client_refreshes_with_either_client_authentication() {
    let f = Fixture::new().await;
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let tokens = f.login().await;
        let client = f.client(f.secret(), auth);
        let answer = client
            .exchange_refresh_token(&RefreshToken::new(tokens.refresh_token.clone()))
            .request_async(&send)
            .await
            .unwrap_or_else(|e| panic!("refresh refused: {e:?}"));
        assert_eq!(answer.token_type(), &BasicTokenType::Bearer);
        let lifetime = answer.expires_in().expect("expires_in").as_secs();
        assert!((3590..=3600).contains(&lifetime), "{lifetime}");
        let refresh = answer.refresh_token().expect("a rotated refresh token").secret();
        assert_ne!(refresh, &tokens.refresh_token);
        assert_eq!(f.me(answer.access_token().secret()).await, 200);
        assert_eq!(f.me(&tokens.access_token).await, 401, "the refreshed pair is retired");
    }
}

#[tokio::test]
async fn a_standard_client_understands_the_error_answers() {
    let f = Fixture::new().await;
    let tokens = f.login().await;
    let refused = |e: RequestTokenError<_, oauth2::basic::BasicErrorResponse>| match e {
        RequestTokenError::ServerResponse(body) => body.error().clone(),
        other => panic!("not an OAuth error answer: {other:?}"),
    };
    let refresh = RefreshToken::new(tokens.refresh_token.clone());

    let wrong_secret = f.client("not the secret", AuthType::BasicAuth);
    let error = wrong_secret.exchange_refresh_token(&refresh).request_async(&send).await.unwrap_err();
    assert_eq!(refused(error), BasicErrorResponseType::InvalidClient);

    let client = f.client(f.secret(), AuthType::BasicAuth);
    let answer = client.exchange_refresh_token(&refresh).request_async(&send).await.unwrap();
    // The same refresh token again: reuse, which revokes the whole login.
    let error = client.exchange_refresh_token(&refresh).request_async(&send).await.unwrap_err();
    assert_eq!(refused(error), BasicErrorResponseType::InvalidGrant);
    assert_eq!(f.me(answer.access_token().secret()).await, 401);
    let unknown = RefreshToken::new("0".repeat(64));
    let error = client.exchange_refresh_token(&unknown).request_async(&send).await.unwrap_err();
    assert_eq!(refused(error), BasicErrorResponseType::InvalidGrant);
}

#[tokio::test]
async fn a_standard_client_revokes_tokens() {
    let f = Fixture::new().await;
    let client = f.client(f.secret(), AuthType::BasicAuth);
    let tokens = f.login().await;
    assert_eq!(f.me(&tokens.access_token).await, 200);
    let access = StandardRevocableToken::AccessToken(AccessToken::new(tokens.access_token.clone()));
    client.revoke_token(access).unwrap().request_async(&send).await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(f.me(&tokens.access_token).await, 401);

    // A refresh token: revoking it ends its login (RFC 7009 §2.1).
    let tokens = f.login().await;
    let refresh = StandardRevocableToken::RefreshToken(RefreshToken::new(tokens.refresh_token.clone()));
    client.revoke_token(refresh).unwrap().request_async(&send).await.unwrap_or_else(|e| panic!("{e:?}"));
    let reuse = client.exchange_refresh_token(&RefreshToken::new(tokens.refresh_token)).request_async(&send).await;
    assert!(reuse.is_err(), "a revoked refresh token was accepted");

    // Unknown tokens are answered 200 too (RFC 7009 §2.2): the client sees success.
    let unknown = StandardRevocableToken::AccessToken(AccessToken::new("f".repeat(64)));
    client.revoke_token(unknown).unwrap().request_async(&send).await.unwrap_or_else(|e| panic!("{e:?}"));
}
