//! The request pipeline every generated endpoint runs, in this order:
//!
//! 1. method guard (in the router: 405 + `Allow`);
//! 2. authentication (private endpoints: 401 without a user);
//! 3. data extraction: path, body (non-GET), query; path wins over body, body over query;
//! 4. parameter coercion and validation, all errors collected into one 400;
//! 5. project requirement and permission (`can_do`, `perm_required` → 403);
//! 6. model lookup and ownership (`model = T` → 400/404);
//! 7. the handler.
//!
//! The generated code calls the methods of [`Input`] in that order; everything that
//! does not depend on the handler's types lives here, compiled once.

// The error side of these results is a finished response on a cold path; boxing it
// would only add an allocation.
#![allow(clippy::result_large_err)]

mod body;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams, Request};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use validator::Validate;

use crate::error::FieldErrors;
use crate::params::{CoerceCx, FromParam, Raw, RuleError};
use crate::routing::Endpoint;
use crate::{ApiError, App, Ctx, NetsModel};

/// Raw parameters in priority order (the first entry for a name wins).
pub(crate) type Entries = Vec<(String, Raw)>;

/// Appends pairs, folding repeated keys of the same source into [`Raw::Many`].
pub(crate) fn push_grouped(out: &mut Entries, pairs: impl Iterator<Item = (String, Raw)>) {
    let start = out.len();
    for (key, value) in pairs {
        match out[start..].iter_mut().find(|(k, _)| *k == key) {
            Some((_, Raw::Many(items))) => items.push(value),
            Some((_, existing)) => {
                let first = std::mem::replace(existing, Raw::Many(Vec::new()));
                *existing = Raw::Many(vec![first, value]);
            }
            None => out.push((key, value)),
        }
    }
}

/// The state of one request between extraction and the handler call.
#[doc(hidden)]
pub struct Input {
    ctx: Ctx,
    entries: Entries,
    index_value: Option<Raw>,
    missing: Vec<&'static str>,
    invalid: FieldErrors,
    endpoint: &'static Endpoint,
    coerce: CoerceCx,
}

impl Input {
    /// Steps 2 and 3: authenticates and reads every parameter source.
    pub async fn extract(req: Request, app: App, endpoint: &'static Endpoint) -> Result<Input, Response> {
        let (mut parts, body) = req.into_parts();
        let mut ctx = Ctx::new(app);
        ctx.client_ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        ctx.request_id = parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(Arc::from);
        match ctx.app.authenticator().authenticate(&parts, &ctx.app).await {
            Ok(Some(user)) => ctx.user = Some(Arc::new(user)),
            _ if endpoint.public => {}
            Ok(None) => return Err(ApiError::Unauthorized { challenge: None }.into_response()),
            Err(e) => return Err(e.into_response()),
        }
        ctx.perm = endpoint.public;

        let mut entries = Entries::new();
        match RawPathParams::from_request_parts(&mut parts, &()).await {
            Ok(params) => entries.extend(params.iter().map(|(k, v)| (k.to_owned(), Raw::Text(v.to_owned())))),
            // Only fails for invalid UTF-8 after percent-decoding.
            Err(_) => return Err(ApiError::bad_request("invalid percent-encoding in the path").into_response()),
        }
        if parts.method != Method::GET && parts.method != Method::HEAD {
            let limit = ctx.app.settings().max_body_size;
            body::read_body(&parts, body, limit, &mut entries).await.map_err(IntoResponse::into_response)?;
        }
        if let Some(query) = parts.uri.query() {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
                .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}")).into_response())?;
            push_grouped(&mut entries, pairs.into_iter().map(|(k, v)| (k, Raw::Text(v))));
        }

        let index_value = endpoint
            .model
            .as_ref()
            .and_then(|m| entries.iter().find(|(k, _)| *k == m.index_field))
            .map(|(_, v)| v.clone());
        let coerce = ctx.app.coerce_cx();
        Ok(Input { ctx, entries, index_value, missing: Vec::new(), invalid: FieldErrors::new(), endpoint, coerce })
    }

    fn name(&self, idx: usize) -> &'static str {
        self.endpoint.params[idx].name
    }

    /// Takes the raw value of a parameter, `None` when absent (missing, `null`, or an
    /// empty string for types where empty means nothing).
    fn take<T: FromParam>(&mut self, name: &str) -> Option<Raw> {
        let pos = self.entries.iter().position(|(k, _)| k == name)?;
        let (_, raw) = self.entries.swap_remove(pos);
        let raw = if T::ACCEPTS_OBJECT { raw } else { unwrap_select(raw) };
        match &raw {
            Raw::Json(Value::Null) => None,
            _ if !T::ACCEPTS_EMPTY && raw.as_str().is_some_and(|s| s.trim().is_empty()) => None,
            _ => Some(raw),
        }
    }

    fn coerce<T: FromParam>(
        &mut self,
        idx: usize,
        raw: Raw,
        check: impl FnOnce(&T, &Ctx) -> Result<(), RuleError>,
    ) -> Option<T> {
        let name = self.name(idx);
        let result = T::from_param(raw, &self.coerce)
            .map_err(|e| e.to_string())
            .and_then(|v| check(&v, &self.ctx).map(|()| v).map_err(|e| e.0));
        match result {
            Ok(v) => Some(v),
            Err(problem) => {
                self.invalid.entry(name.to_owned()).or_default().push(problem);
                None
            }
        }
    }

    /// A required parameter: records "missing" or the coercion/validation error.
    pub fn required<T: FromParam>(
        &mut self,
        idx: usize,
        check: impl FnOnce(&T, &Ctx) -> Result<(), RuleError>,
    ) -> Option<T> {
        match self.take::<T>(self.name(idx)) {
            Some(raw) => self.coerce(idx, raw, check),
            None => {
                self.missing.push(self.name(idx));
                None
            }
        }
    }

    /// An `Option<T>` parameter: `Some(None)` when absent.
    pub fn optional<T: FromParam>(
        &mut self,
        idx: usize,
        check: impl FnOnce(&T, &Ctx) -> Result<(), RuleError>,
    ) -> Option<Option<T>> {
        match self.take::<T>(self.name(idx)) {
            Some(raw) => self.coerce(idx, raw, check).map(Some),
            None => Some(None),
        }
    }

    /// A parameter with `#[param(default = ..)]`. The default is not validated: it is
    /// the programmer's value, not the client's.
    pub fn defaulted<T: FromParam>(
        &mut self,
        idx: usize,
        default: impl FnOnce() -> T,
        check: impl FnOnce(&T, &Ctx) -> Result<(), RuleError>,
    ) -> Option<T> {
        match self.take::<T>(self.name(idx)) {
            Some(raw) => self.coerce(idx, raw, check),
            None => Some(default()),
        }
    }

    /// A `#[param(body)]` structure: from its own key when present (an object or a
    /// JSON-encoded string), else from the whole body; then `Validate::validate`.
    pub fn body<T: DeserializeOwned + Validate>(&mut self, idx: usize) -> Option<T> {
        let name = self.name(idx);
        let (value, prefix) = match self.take::<Map<String, Value>>(name) {
            Some(raw) => match Map::<String, Value>::from_param(raw, &self.coerce) {
                Ok(map) => (Value::Object(map), format!("{name}.")),
                Err(e) => {
                    self.invalid.entry(name.to_owned()).or_default().push(e.to_string());
                    return None;
                }
            },
            None => (
                Value::Object(self.entries.iter().filter_map(|(k, v)| Some((k.clone(), raw_to_json(v)?))).collect()),
                String::new(),
            ),
        };
        let parsed: T = match serde_json::from_value(value) {
            Ok(v) => v,
            Err(e) => {
                self.invalid.entry(name.to_owned()).or_default().push(e.to_string());
                return None;
            }
        };
        match parsed.validate() {
            Ok(()) => Some(parsed),
            Err(errors) => {
                flatten_validation(&errors, &prefix, &mut self.invalid);
                None
            }
        }
    }

    /// Step 4 ends: one 400 listing every missing and invalid parameter.
    pub fn finish_params(&mut self) -> Result<(), Response> {
        if self.missing.is_empty() && self.invalid.is_empty() {
            return Ok(());
        }
        let mut errors = std::mem::take(&mut self.invalid);
        let message = if !self.missing.is_empty() {
            format!("Missing params: {}", self.missing.join(", "))
        } else if errors.len() == 1 {
            let (field, problems) = errors.iter().next().map(|(f, p)| (f.as_str(), p.join("; "))).unwrap_or_default();
            format!("invalid value for parameter '{field}': {problems}")
        } else {
            format!("invalid parameters: {}", errors.keys().cloned().collect::<Vec<_>>().join(", "))
        };
        for name in &self.missing {
            errors.entry((*name).to_owned()).or_default().push("this parameter is required".into());
        }
        Err(ApiError::BadRequest { message, errors }.into_response())
    }

    /// Step 5: project requirement and permissions.
    pub async fn authorize(&mut self) -> Result<(), Response> {
        let endpoint = self.endpoint;
        if endpoint.project_required && self.ctx.project.is_none() {
            return Err(ApiError::bad_request("project_id is required").into_response());
        }
        if !endpoint.can_do.is_empty() {
            let checker = self.ctx.app.clone();
            let mut perm = true;
            for action in endpoint.can_do {
                match checker.permissions().check(&self.ctx, action).await {
                    Ok(true) => {}
                    Ok(false) => {
                        perm = false;
                        break;
                    }
                    Err(e) => return Err(e.into_response()),
                }
            }
            self.ctx.perm = perm;
        }
        if endpoint.perm_required && !self.ctx.perm {
            return Err(ApiError::Forbidden.into_response());
        }
        Ok(())
    }

    /// Step 6: loads the `model = M` object and enforces ownership.
    pub async fn model<M: NetsModel>(&mut self) -> Result<M, Response> {
        let field = self.endpoint.model.as_ref().map_or(M::INDEX_FIELD, |m| m.index_field);
        let value = self.index_value.take().and_then(|raw| index_text(unwrap_select(raw)));
        let Some(value) = value else {
            let mut errors = FieldErrors::new();
            errors.insert(field.to_owned(), vec!["required to look up the object".into()]);
            return Err(ApiError::BadRequest { message: format!("Missing params: {field}"), errors }.into_response());
        };
        let object = match M::find_by_index(&self.ctx, field, &value).await {
            Ok(Some(object)) => object,
            Ok(None) => return Err(ApiError::NotFound.into_response()),
            Err(e) => return Err(e.into_response()),
        };
        let caller = self.ctx.user().map(|u| u.id);
        let guarded = !self.endpoint.public && !self.ctx.perm;
        if let Some(owner) = object.owner_id().filter(|_| guarded)
            && caller != Some(owner)
        {
            tracing::warn!(user = ?caller, model = M::TABLE, index = %value, "access to an object owned by another user");
            return Err(ApiError::NotFound.into_response());
        }
        Ok(object)
    }

    /// The context, for handlers that take one.
    pub fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    /// Step 7: hands the context to the handler.
    pub fn into_ctx(self) -> Ctx {
        self.ctx
    }
}

/// `{"value": x, "label": ..}` (as sent by UI selects, also JSON-encoded) becomes `x`.
fn unwrap_select(raw: Raw) -> Raw {
    match raw {
        Raw::Json(Value::Object(mut map)) if map.contains_key("value") => {
            Raw::Json(map.remove("value").unwrap_or(Value::Null))
        }
        Raw::Text(ref s) | Raw::Json(Value::String(ref s)) if s.trim_start().starts_with('{') => {
            match serde_json::from_str::<Map<String, Value>>(s) {
                Ok(mut map) if map.contains_key("value") => Raw::Json(map.remove("value").unwrap_or(Value::Null)),
                _ => raw,
            }
        }
        other => other,
    }
}

/// The text form of an index value; `None` when it is empty or not a scalar.
fn index_text(raw: Raw) -> Option<String> {
    let text = match raw {
        Raw::Text(s) | Raw::Json(Value::String(s)) => s,
        Raw::Json(Value::Number(n)) => n.to_string(),
        _ => return None,
    };
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

fn raw_to_json(raw: &Raw) -> Option<Value> {
    match raw {
        Raw::Text(s) => Some(Value::String(s.clone())),
        Raw::Json(v) => Some(v.clone()),
        Raw::Many(items) => Some(Value::Array(items.iter().filter_map(raw_to_json).collect())),
        Raw::File(_) => None,
    }
}

fn flatten_validation(errors: &validator::ValidationErrors, prefix: &str, out: &mut FieldErrors) {
    use validator::ValidationErrorsKind as Kind;
    for (field, kind) in errors.errors() {
        let path = format!("{prefix}{field}");
        match kind {
            Kind::Field(list) => {
                let messages = list.iter().map(|e| match &e.message {
                    Some(m) => m.to_string(),
                    None => format!("failed validation '{}'", e.code),
                });
                out.entry(path).or_default().extend(messages);
            }
            Kind::Struct(inner) => flatten_validation(inner, &format!("{path}."), out),
            Kind::List(items) => {
                for (i, inner) in items {
                    flatten_validation(inner, &format!("{path}[{i}]."), out);
                }
            }
        }
    }
}
