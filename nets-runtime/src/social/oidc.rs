//! ID tokens of Google, Apple and the Microsoft identity platform, verified with
//! `jsonwebtoken`: RS256 only (no `none`, no HMAC with a public key), the key chosen by
//! `kid` from the provider's JWKS, then issuer, audience (this app's client ids),
//! `exp`/`nbf`/`iat` with a minute of leeway, and what each provider adds (Google's
//! hosted domain, Apple's nonce, Microsoft's tenant).

use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation, errors::ErrorKind};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::jwks::Jwks;
use super::{Identity, Provider, SocialError};
use crate::Settings;
use crate::keys::hex;

/// The Microsoft tenant of personal accounts (`consumers`).
const CONSUMERS_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
const GOOGLE_ISSUERS: [&str; 2] = ["accounts.google.com", "https://accounts.google.com"];
const APPLE_ISSUER: &str = "https://appleid.apple.com";
const FACEBOOK_ISSUERS: [&str; 2] = ["https://www.facebook.com", "https://limited.facebook.com"];

pub(crate) struct Oidc {
    provider: Provider,
    jwks: Jwks,
    audiences: Vec<String>,
    issuer: Issuer,
    hosted_domain: Option<String>,
}

enum Issuer {
    /// One of these exactly.
    Fixed(Vec<String>),
    /// Microsoft: the template with the token's `tid`, which must fit the tenant setting.
    Tenant { template: String, tenant: String },
}

/// The claims read (the registered ones are checked by `jsonwebtoken`).
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    email: Option<String>,
    email_verified: Option<Flag>,
    given_name: Option<String>,
    family_name: Option<String>,
    name: Option<String>,
    picture: Option<String>,
    hd: Option<String>,
    nonce: Option<String>,
    tid: Option<String>,
    /// Microsoft: the e-mail's domain is verified by its owner tenant.
    xms_edov: Option<Flag>,
}

/// A boolean claim as providers write it: Apple sends `"true"`, others `true`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Text(String),
}

impl Flag {
    fn is_true(flag: &Option<Flag>) -> bool {
        match flag {
            Some(Flag::Bool(b)) => *b,
            Some(Flag::Text(t)) => t.eq_ignore_ascii_case("true"),
            None => false,
        }
    }
}

fn non_empty(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

impl Oidc {
    pub(crate) fn google(settings: &Settings, http: reqwest::Client, min_refresh: Duration) -> Oidc {
        Oidc {
            provider: Provider::Google,
            jwks: Jwks::new(settings.google_jwks_url.clone(), http, min_refresh),
            audiences: settings.google_client_id.clone(),
            issuer: Issuer::Fixed(GOOGLE_ISSUERS.iter().map(|s| (*s).to_owned()).collect()),
            hosted_domain: non_empty(&settings.google_hosted_domain).map(|d| d.to_lowercase()),
        }
    }

    pub(crate) fn apple(settings: &Settings, http: reqwest::Client, min_refresh: Duration) -> Oidc {
        Oidc {
            provider: Provider::Apple,
            jwks: Jwks::new(settings.apple_jwks_url.clone(), http, min_refresh),
            audiences: settings.apple_client_id.clone(),
            issuer: Issuer::Fixed(vec![APPLE_ISSUER.to_owned()]),
            hosted_domain: None,
        }
    }

    /// Facebook Limited Login (iOS): an OpenID Connect ID token for `FACEBOOK_APP_ID`
    /// instead of a Graph access token.
    pub(crate) fn facebook(settings: &Settings, http: reqwest::Client, min_refresh: Duration) -> Oidc {
        let app = settings.facebook_app_id.trim();
        Oidc {
            provider: Provider::Facebook,
            jwks: Jwks::new(settings.facebook_jwks_url.clone(), http, min_refresh),
            audiences: if app.is_empty() { Vec::new() } else { vec![app.to_owned()] },
            issuer: Issuer::Fixed(FACEBOOK_ISSUERS.iter().map(|s| (*s).to_owned()).collect()),
            hosted_domain: None,
        }
    }

    pub(crate) fn microsoft(settings: &Settings, http: reqwest::Client, min_refresh: Duration) -> Oidc {
        Oidc {
            provider: Provider::Microsoft,
            jwks: Jwks::new(settings.microsoft_jwks_url.clone(), http, min_refresh),
            audiences: settings.microsoft_client_id.clone(),
            issuer: Issuer::Tenant {
                template: settings.microsoft_issuer_url.clone(),
                tenant: settings.microsoft_tenant.trim().to_lowercase(),
            },
            hosted_domain: None,
        }
    }

    /// Whether client ids are configured (else the endpoint answers
    /// `provider_not_configured`, as the original's `… client id not set`).
    pub(crate) fn check_configured(&self) -> Result<(), SocialError> {
        match self.audiences.is_empty() {
            true => Err(SocialError::NotConfigured(self.provider.title())),
            false => Ok(()),
        }
    }

    /// Verifies `token`; `nonce` is the raw nonce the client sent (the token carries its
    /// SHA-256 in hex, as Apple and Facebook Limited Login embed it, or the nonce itself).
    pub(crate) async fn verify(&self, token: &str, nonce: Option<&str>) -> Result<Identity, SocialError> {
        self.check_configured()?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| SocialError::Invalid("not a JWT".into()))?;
        if header.alg != Algorithm::RS256 {
            return Err(SocialError::Invalid(format!("algorithm {:?} is not accepted", header.alg)));
        }
        let kid = header.kid.ok_or_else(|| SocialError::Invalid("no key id".into()))?;
        let key = self.jwks.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&self.audiences);
        validation.leeway = 60;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        if let Issuer::Fixed(issuers) = &self.issuer {
            validation.set_issuer(issuers);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => SocialError::Expired,
                ErrorKind::InvalidAudience => SocialError::WrongAudience,
                ErrorKind::InvalidIssuer => SocialError::WrongIssuer,
                ErrorKind::InvalidSignature => SocialError::Invalid("bad signature".into()),
                ErrorKind::MissingRequiredClaim(claim) => SocialError::Invalid(format!("no {claim} claim")),
                _ => SocialError::Invalid("malformed token".into()),
            })?
            .claims;
        self.check_issuer(&claims)?;
        if let Some(domain) = &self.hosted_domain
            && claims.hd.as_deref().map(str::to_lowercase).as_deref() != Some(domain.as_str())
        {
            return Err(SocialError::Invalid(format!("the account is not of the domain {domain}")));
        }
        // A token bound to a nonce is accepted only with it (a captured token cannot be
        // replayed without), and a client that sends one gets only a token bound to it.
        match (nonce.filter(|n| !n.is_empty()), claims.nonce.as_deref()) {
            (None, None) => {}
            (Some(nonce), Some(bound)) if bound == hex(&Sha256::digest(nonce.as_bytes())) || bound == nonce => {}
            (None, Some(_)) => return Err(SocialError::Invalid("the token is bound to a nonce: send it".into())),
            (Some(_), _) => return Err(SocialError::Invalid("the nonce does not match".into())),
        }
        Ok(self.identity(claims))
    }

    fn check_issuer(&self, claims: &Claims) -> Result<(), SocialError> {
        let Issuer::Tenant { template, tenant } = &self.issuer else { return Ok(()) };
        let tid = claims.tid.as_deref().map(str::to_lowercase).ok_or(SocialError::WrongIssuer)?;
        let fits = match tenant.as_str() {
            "common" => true,
            "consumers" => tid == CONSUMERS_TENANT,
            "organizations" => tid != CONSUMERS_TENANT,
            exact => tid == exact,
        };
        if !fits || claims.iss != template.replace("{tenantid}", &tid) {
            return Err(SocialError::WrongIssuer);
        }
        Ok(())
    }

    fn identity(&self, claims: Claims) -> Identity {
        let verified = match self.provider {
            // Only the tenant that owns the domain can vouch for a Microsoft address.
            Provider::Microsoft => Flag::is_true(&claims.xms_edov),
            // Facebook shares only addresses its user confirmed.
            Provider::Facebook => claims.email.as_deref().is_some_and(|e| !e.trim().is_empty()),
            _ => Flag::is_true(&claims.email_verified),
        };
        let profile = serde_json::json!({
            "sub": claims.sub, "email": claims.email, "name": claims.name,
            "given_name": claims.given_name, "family_name": claims.family_name, "picture": claims.picture,
        });
        let picture = claims.picture.as_deref().and_then(non_empty);
        Identity {
            subject: claims.sub,
            email: claims.email.as_deref().and_then(non_empty).map(|e| e.to_lowercase()),
            email_verified: verified,
            first_name: claims.given_name.as_deref().or(claims.name.as_deref()).and_then(non_empty),
            last_name: claims.family_name.as_deref().and_then(non_empty),
            picture,
            profile,
        }
    }
}
