//! The request pipeline every generated endpoint runs, in this order:
//!
//! 1. method guard (in the router: 405 + `Allow`);
//! 2. authentication (private endpoints: 401 without a user);
//! 3. data extraction: path, body (non-GET), query; path wins over body, body over query;
//!    then, **only on an endpoint that declares a project scope** (`project_required`,
//!    `project = ".."`), its project parameter resolves the project and the caller's
//!    membership (400 when it is not a positive integer; 403 for a caller who is not an
//!    enabled member, whether or not the project exists). Anywhere else a `project_id`
//!    the client sends is an ordinary value: the client never picks the scope a
//!    permission is checked in;
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

mod arg;
mod body;
mod query;

pub use arg::{HandlerArg, State};
#[doc(hidden)]
pub use arg::{missing_model, resolve_model};

pub(crate) use query::decode_component;

use std::borrow::Cow;

use axum::extract::{FromRequestParts, RawPathParams, Request};
use axum::http::Method;
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use validator::Validate;

use crate::error::FieldErrors;
use crate::params::{FromParam, NUL_PROBLEM, Raw, RuleError};
use crate::routing::Endpoint;
use crate::{ApiError, App, Ctx, NetsModel, Settings};
use query::{collect_query, decode_segment, query_segments};

/// Raw parameters in priority order (the first entry for a name wins). Keys that match a
/// declared parameter borrow its `'static` name instead of allocating.
pub(crate) type Entries = Vec<(Cow<'static, str>, Raw)>;

/// Appends one source's pairs, folding repeated keys into [`Raw::Many`]. Refuses more
/// than `max_fields` entries in all, so a hostile body cannot make parsing expensive.
pub(crate) fn push_grouped(
    out: &mut Entries,
    pairs: impl Iterator<Item = (String, Raw)>,
    max_fields: usize,
) -> Result<(), ApiError> {
    let start = out.len();
    for pair in pairs {
        if out.len() >= max_fields {
            return Err(too_many_fields(max_fields));
        }
        out.push((Cow::Owned(pair.0), pair.1));
    }
    if out.len() - start < 2 {
        return Ok(());
    }
    // Group equal keys of this source, in place. The stable sort keeps each key's values
    // in arrival order; the order of distinct keys within one source does not matter, and
    // entries before `start` (earlier sources) are never merged with.
    out[start..].sort_by(|a, b| a.0.cmp(&b.0));
    let mut write = start;
    for read in start + 1..out.len() {
        if out[read].0 == out[write].0 {
            let value = std::mem::replace(&mut out[read].1, Raw::Many(Vec::new()));
            out[write].1.push(value);
        } else {
            write += 1;
            out.swap(write, read);
        }
    }
    out.truncate(write + 1);
    Ok(())
}

pub(crate) fn too_many_fields(max_fields: usize) -> ApiError {
    ApiError::bad_request(format!("too many parameters (limit is {max_fields})"))
}

/// The state of one request between extraction and the handler call.
#[doc(hidden)]
pub struct Input {
    /// The request's headers, for handlers that take them (`HeaderMap`).
    headers: axum::http::HeaderMap,
    ctx: Ctx,
    entries: Entries,
    /// The request URI, whose query string is the lowest-priority source.
    uri: axum::http::Uri,
    index_value: Option<Raw>,
    missing: Vec<&'static str>,
    invalid: FieldErrors,
    /// Names in `invalid`, in declaration order (the map itself is sorted).
    invalid_order: Vec<String>,
    endpoint: &'static Endpoint,
    /// A WebSocket endpoint's upgrade, for its `WebSocketUpgrade` argument.
    #[cfg(feature = "realtime")]
    handshake: Option<crate::realtime::Handshake>,
}

/// Authenticates a WebSocket endpoint's request (header or ticket) and takes its
/// upgrade; without the `realtime` feature no argument makes an endpoint one.
async fn websocket_handshake(
    parts: &mut axum::http::request::Parts,
    app: &App,
    public: bool,
    #[cfg(feature = "realtime")] slot: &mut Option<crate::realtime::Handshake>,
) -> Result<Option<crate::AuthUser>, ApiError> {
    #[cfg(feature = "realtime")]
    {
        let (user, handshake) = crate::realtime::handshake(parts, app, public).await?;
        *slot = Some(handshake);
        Ok(user)
    }
    #[cfg(not(feature = "realtime"))]
    {
        let _ = (parts, app, public);
        Err(ApiError::internal("a WebSocket endpoint in a build without the `realtime` feature"))
    }
}

impl Input {
    /// Steps 2 and 3: authenticates and reads every parameter source.
    pub async fn extract(req: Request, app: App, endpoint: &'static Endpoint) -> Result<Input, Response> {
        let (mut parts, body) = req.into_parts();
        let mut ctx = Ctx::new(app);
        ctx.client_ip = ctx.app.client_ip(&parts);
        ctx.request_id = parts.headers.get(&crate::app::REQUEST_ID).cloned();
        let shape = Shape::of(endpoint);
        #[cfg(feature = "realtime")]
        let mut handshake = None;
        let found = if shape.websocket {
            let found = websocket_handshake(
                &mut parts,
                &ctx.app,
                endpoint.public,
                #[cfg(feature = "realtime")]
                &mut handshake,
            )
            .await;
            // Its refusals (401 included) are answered on public endpoints too.
            Ok(found.map_err(|e| endpoint.reject(e))?)
        } else {
            ctx.app.authenticator().authenticate(&parts, &ctx.app).await
        };
        match found {
            Ok(Some(user)) => ctx.user = Some(std::sync::Arc::new(user)),
            _ if endpoint.public => {}
            Ok(None) => return Err(endpoint.reject(ApiError::Unauthorized { challenge: None })),
            Err(e) => return Err(endpoint.reject(e)),
        }
        ctx.perm = endpoint.public;

        let max_fields = ctx.app.settings().max_fields;
        let mut entries = Entries::with_capacity(endpoint.params.len());
        match RawPathParams::from_request_parts(&mut parts, &()).await {
            Ok(params) => {
                let settings = ctx.app.settings();
                entries
                    .extend(params.iter().map(|(k, v)| (declared_key(endpoint, settings, k), Raw::Text(v.to_owned()))))
            }
            // Only fails for invalid UTF-8 after percent-decoding.
            Err(_) => return Err(endpoint.reject(ApiError::bad_request("invalid percent-encoding in the path"))),
        }
        if parts.method != Method::GET && parts.method != Method::HEAD {
            let bytes = endpoint.body_limit.map_or(ctx.app.settings().max_body_size, |limit| limit(&ctx.app));
            let limits = body::Limits { bytes, fields: max_fields };
            // Boxed: its state machine (multipart parsing) is large, and inlining it would make
            // every request's future (GETs too) that much bigger to move around.
            Box::pin(body::read_body(&parts, body, limits, &mut entries)).await.map_err(|e| endpoint.reject(e))?;
        }
        // The query string is the lowest-priority source. One pass keeps the pairs whose
        // key is a declared parameter; the rest are only counted (see `collect_query`).
        let uri = parts.uri;
        let project = endpoint.project.filter(|_| ctx.app.permissions().resolves_projects());
        if let Some(query) = uri.query() {
            let settings = ctx.app.settings();
            if shape.secrets {
                refuse_secrets_in_query(endpoint, settings, query).map_err(|e| endpoint.reject(e))?;
            }
            if shape.rest {
                // A rest parameter receives every key, so every pair is kept.
                query::collect_all(query, &mut entries, max_fields).map_err(|e| endpoint.reject(e))?;
            } else {
                let wanted =
                    |key: &str| declared_name(endpoint, settings, key).or_else(|| project.filter(|p| *p == key));
                collect_query(query, wanted, &mut entries, max_fields).map_err(|e| endpoint.reject(e))?;
            }
        }
        if let Some(name) = project
            && let Some((_, raw)) = entries.iter().find(|(k, _)| k == name)
        {
            resolve_project(&mut ctx, name, raw.clone()).await.map_err(|e| endpoint.reject(e))?;
        }
        let index_value = endpoint
            .model
            .as_ref()
            .and_then(|m| entries.iter().find(|(k, _)| k == m.index_field))
            .map(|(_, v)| v.clone());
        Ok(Input {
            // Only endpoints that take the headers keep them (one map less to move around).
            headers: if shape.headers { parts.headers } else { axum::http::HeaderMap::new() },
            ctx,
            entries,
            uri,
            index_value,
            missing: Vec::new(),
            invalid: FieldErrors::new(),
            invalid_order: Vec::new(),
            endpoint,
            #[cfg(feature = "realtime")]
            handshake,
        })
    }

    /// The parameter's name under the app's settings (`None`: no such parameter there).
    #[inline]
    fn name(&self, idx: usize) -> Option<&'static str> {
        let spec = &self.endpoint.params[idx];
        // The common case first: a name written in the source.
        match spec.name_from {
            None => Some(spec.name),
            Some(_) => spec.name_in(self.ctx.app.settings()),
        }
    }

    /// The name for error messages (the declared one when the settings give none).
    fn shown_name(&self, idx: usize) -> &'static str {
        self.name(idx).unwrap_or(self.endpoint.params[idx].name)
    }

    /// Takes the raw value of a parameter, `None` when absent (missing, `null`, or an
    /// empty string for types where empty means nothing).
    fn take<T: FromParam>(&mut self, name: Option<&str>) -> Option<Raw> {
        let name = name?;
        let pos = self.entries.iter().position(|(k, _)| k == name)?;
        // `remove`, not `swap_remove`: the order of entries is their priority (path, body,
        // query), and a swap would let a lower-priority value overtake a higher one.
        let raw = self.entries.remove(pos).1;
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
        if raw.contains_nul() {
            let field = nul_field(self.shown_name(idx), &raw);
            self.record(field, NUL_PROBLEM.to_owned());
            return None;
        }
        let result = T::from_param(raw, self.ctx.app.coerce_cx())
            .map_err(|e| e.to_string())
            .and_then(|v| check(&v, &self.ctx).map(|()| v).map_err(|e| e.0));
        match result {
            Ok(v) => Some(v),
            Err(problem) => {
                // The name is looked up only for the report.
                self.record(self.shown_name(idx).to_owned(), problem);
                None
            }
        }
    }

    /// Records a problem with a field, remembering the order fields were first reported in.
    fn record(&mut self, field: String, problem: String) {
        if !self.invalid.contains_key(&field) {
            self.invalid_order.push(field.clone());
        }
        self.invalid.entry(field).or_default().push(problem);
    }

    /// A required parameter: records "missing" or the coercion/validation error.
    pub fn required<T: FromParam>(
        &mut self,
        idx: usize,
        check: impl FnOnce(&T, &Ctx) -> Result<(), RuleError>,
    ) -> Option<T> {
        let raw = self.take::<T>(self.name(idx));
        // A required value must be a value: `""` and `[]` are missing like an absent key
        // (the original's "es obligatorio"), unless the parameter allows them. Types that
        // do not accept empty text never see it (`take`), so only the others look.
        let may_be_empty = T::ACCEPTS_EMPTY && !T::EMPTY_IS_VALUE && !self.endpoint.params[idx].allow_empty;
        match raw.filter(|raw| !may_be_empty || !raw.is_empty()) {
            Some(raw) => self.coerce(idx, raw, check),
            None => {
                self.missing.push(self.shown_name(idx));
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

    /// A [`Page`](crate::params::Page) argument: `page`, then `page_size` or
    /// `paginated_by` (the first sent), each a positive integer (the size reduced to
    /// `NETS_CORE_PAGE_SIZE_MAX`); a problem is recorded under the key sent.
    pub(crate) fn page(&mut self) -> Option<crate::params::Page> {
        let settings = self.ctx.app.settings();
        let (default_size, max_size) = (settings.page_size.max(1), settings.page_size_max.max(1));
        let [page_key, size_key, alias] = crate::params::PAGE_KEYS;
        let page = self.positive(page_key).map(|page| page.unwrap_or(1));
        let size = match self.positive(size_key) {
            Some(None) => self.positive(alias),
            found => found,
        };
        // Both read, so both problems are reported at once.
        let (page, size) = (page?, size?);
        Some(crate::params::Page { page, page_size: size.unwrap_or(default_size).min(max_size) })
    }

    /// A positive integer under `key`: `Some(None)` when absent, `None` after recording
    /// why it is not one.
    fn positive(&mut self, key: &'static str) -> Option<Option<u64>> {
        let Some(raw) = self.take::<u64>(Some(key)) else { return Some(None) };
        match u64::from_param(raw, self.ctx.app.coerce_cx()) {
            Ok(n) if n >= 1 => Some(Some(n)),
            Ok(_) => {
                self.record(key.to_owned(), "must be at least 1".to_owned());
                None
            }
            Err(e) => {
                self.record(key.to_owned(), e.to_string());
                None
            }
        }
    }

    /// A `#[param(body)]` structure: from its own key when present (an object or a
    /// JSON-encoded string), else from the whole body; then `Validate::validate`.
    pub fn body<T: DeserializeOwned + Validate>(&mut self, idx: usize) -> Option<T> {
        let name = self.shown_name(idx);
        let (value, prefix) = match self.take::<Map<String, Value>>(Some(name)) {
            Some(raw) => match Map::<String, Value>::from_param(raw, self.ctx.app.coerce_cx()) {
                Ok(map) => (Value::Object(map), format!("{name}.")),
                Err(e) => {
                    self.record(name.to_owned(), e.to_string());
                    return None;
                }
            },
            None => {
                // The first entry for a key wins (path, then body, then query), as for parameters.
                let mut object = Map::new();
                for (key, raw) in &self.entries {
                    if let (serde_json::map::Entry::Vacant(slot), Some(json)) =
                        (object.entry(key.as_ref()), raw_to_json(raw))
                    {
                        slot.insert(json);
                    }
                }
                let mut from_query = Map::new();
                let uri = self.uri.clone();
                for segment in query_segments(uri.query().unwrap_or("")) {
                    let (key, value) = match decode_segment(segment) {
                        Ok(pair) => pair,
                        Err(ApiError::BadRequest { message, errors }) => {
                            if errors.is_empty() {
                                self.record(name.to_owned(), message);
                            }
                            for (field, problems) in errors {
                                problems.into_iter().for_each(|p| self.record(field.clone(), p));
                            }
                            return None;
                        }
                        Err(e) => {
                            self.record(name.to_owned(), e.to_string());
                            return None;
                        }
                    };
                    // Declared parameters' query values live in `entries` (or were taken).
                    let declared = declared_name(self.endpoint, self.ctx.app.settings(), &key).is_some();
                    if object.contains_key(key.as_ref()) || declared {
                        continue;
                    }
                    let value = Value::String(value.into_owned());
                    match from_query.get_mut(key.as_ref()) {
                        Some(Value::Array(items)) => items.push(value),
                        Some(first) => *first = Value::Array(vec![first.take(), value]),
                        None => {
                            from_query.insert(key.into_owned(), value);
                        }
                    }
                }
                object.extend(from_query);
                (Value::Object(object), String::new())
            }
        };
        if let Some(path) = crate::params::json_nul_path(&value) {
            let field = if path.is_empty() { name.to_owned() } else { format!("{prefix}{path}") };
            self.record(field, NUL_PROBLEM.to_owned());
            return None;
        }
        let parsed: T = match crate::params::lenient::from_value(value) {
            Ok(v) => v,
            Err(e) => {
                let path = e.path().to_string();
                let field = if path == "." { name.to_owned() } else { format!("{prefix}{path}") };
                self.record(field, e.into_inner().to_string());
                return None;
            }
        };
        match parsed.validate() {
            Ok(()) => Some(parsed),
            Err(errors) => {
                let mut problems = Vec::new();
                crate::params::flatten_validation(&errors, &prefix, &mut problems);
                // `validator` keeps errors in a HashMap: sort for a stable message.
                problems.sort_by(|a, b| a.0.cmp(&b.0));
                for (field, problem) in problems {
                    self.record(field, problem);
                }
                None
            }
        }
    }

    /// A `#[param(rest)]` parameter: every key no other parameter (nor the project scope
    /// or the model's index field) declares, the first source winning (path, body, query).
    pub fn rest<T: crate::params::FromRest>(&mut self) -> Option<T> {
        let settings = self.ctx.app.settings();
        let endpoint = self.endpoint;
        // The undeclared entries move out (no copies); the declared ones stay for the
        // parameters still to be read.
        let mut rest: Vec<(String, Raw)> = Vec::new();
        let mut kept = Entries::with_capacity(self.entries.len());
        let mut nul = None;
        for (key, raw) in std::mem::take(&mut self.entries) {
            let declared = declared_name(endpoint, settings, &key).is_some() || endpoint.project == Some(key.as_ref());
            if declared {
                kept.push((key, raw));
                continue;
            }
            // A lower-priority source's value for a key already taken is dropped.
            if rest.iter().any(|(k, _)| *k == key) {
                continue;
            }
            if nul.is_none() && (key.contains('\0') || raw.contains_nul()) {
                nul = Some(key.replace('\0', "\\0"));
            }
            rest.push((key.into_owned(), raw));
        }
        self.entries = kept;
        if let Some(key) = nul {
            self.record(key, NUL_PROBLEM.to_owned());
            return None;
        }
        match T::from_rest(rest) {
            Ok(value) => Some(value),
            Err((key, problem)) => {
                self.record(key, problem);
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
            format!("invalid parameters: {}", self.invalid_order.join(", "))
        };
        for name in &self.missing {
            errors.entry((*name).to_owned()).or_default().push("this parameter is required".into());
        }
        Err(self.endpoint.reject(ApiError::BadRequest { message, errors }))
    }

    /// Step 5: project requirement and permissions.
    pub async fn authorize(&mut self) -> Result<(), Response> {
        let endpoint = self.endpoint;
        if endpoint.project_required && self.ctx.project.is_none() {
            let name = endpoint.project.unwrap_or(PROJECT_ID);
            return Err(endpoint.reject(ApiError::bad_request(format!("{name} is required"))));
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
                    Err(e) => return Err(endpoint.reject(e)),
                }
            }
            self.ctx.perm = perm;
        }
        if endpoint.perm_required && !self.ctx.perm {
            return Err(endpoint.reject(ApiError::Forbidden));
        }
        Ok(())
    }

    /// Step 6: loads the `model = M` object and enforces ownership.
    pub async fn model<M: NetsModel>(&mut self) -> Result<M, Response> {
        let field = self.endpoint.model.as_ref().map_or(M::INDEX_FIELD, |m| m.index_field);
        let value = self.index_value.take().and_then(|raw| index_text(unwrap_select(raw)));
        if value.as_deref().is_some_and(|v| v.contains('\0')) {
            return Err(self.endpoint.reject(ApiError::field(field, NUL_PROBLEM)));
        }
        let Some(value) = value else {
            let mut errors = FieldErrors::new();
            errors.insert(field.to_owned(), vec!["required to look up the object".into()]);
            let message = format!("Missing params: {field}");
            return Err(self.endpoint.reject(ApiError::BadRequest { message, errors }));
        };
        let object = match M::find_by_index(&self.ctx, field, &value).await {
            Ok(Some(object)) => object,
            Ok(None) => return Err(self.endpoint.reject(ApiError::NotFound)),
            Err(e) => return Err(self.endpoint.reject(e)),
        };
        let caller = self.ctx.user().map(|u| u.id);
        if let Some(owner) = object.owner_id().filter(|_| !self.opens(&object))
            && caller != Some(owner)
        {
            tracing::warn!(user = ?caller, model = M::TABLE, index = %value, "access to an object owned by another user");
            return Err(self.endpoint.reject(ApiError::NotFound));
        }
        Ok(object)
    }

    /// Whether the caller may load `object` whoever owns it: the endpoint serves public
    /// objects, or its `can_do` passed in a scope that covers the object — globally (no
    /// project, or a global superuser), or in the object's own project. A grant in some
    /// other project never opens an object.
    fn opens<M: NetsModel>(&self, object: &M) -> bool {
        if self.endpoint.public_objects {
            return true;
        }
        if self.endpoint.can_do.is_empty() || !self.ctx.perm {
            return false;
        }
        match &self.ctx.project {
            None => true,
            Some(_) if self.ctx.user().is_some_and(|u| u.is_superuser) => true,
            Some(project) => object.project_id() == Some(project.id),
        }
    }

    /// The context, for handlers that take one.
    pub fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    /// Hands the WebSocket handshake over (once).
    #[cfg(feature = "realtime")]
    pub(crate) fn take_handshake(&mut self) -> Option<crate::realtime::Handshake> {
        self.handshake.take()
    }

    /// Hands the request's headers over (once; later calls get none).
    pub(crate) fn take_headers(&mut self) -> axum::http::HeaderMap {
        std::mem::take(&mut self.headers)
    }
}

/// What extraction must do beyond reading declared parameters, from one pass over them.
struct Shape {
    /// A `#[param(secret)]`: refuse it in the query string.
    secrets: bool,
    /// A `#[param(rest)]`: keep every query pair.
    rest: bool,
    /// A `HeaderMap` argument: keep the headers.
    headers: bool,
    /// A `WebSocketUpgrade` argument: a socket's handshake.
    websocket: bool,
}

impl Shape {
    fn of(endpoint: &Endpoint) -> Shape {
        let mut shape = Shape { secrets: false, rest: false, headers: false, websocket: false };
        for p in endpoint.params {
            shape.secrets |= p.secret;
            shape.rest |= p.location == crate::routing::Location::Rest;
            shape.headers |= p.kind == crate::routing::ArgKind::Headers;
            shape.websocket |= p.kind == crate::routing::ArgKind::WebSocket;
        }
        shape
    }
}

/// Where a NUL sits in a parameter's value: the parameter, or inside a JSON value (also
/// one JSON-encoded in text) the member that holds it (`device.name`).
#[cold]
fn nul_field(name: &str, raw: &Raw) -> String {
    let path = match raw {
        Raw::Json(Value::String(text)) | Raw::Text(text) => {
            serde_json::from_str::<Value>(text).ok().and_then(|v| crate::params::json_nul_path(&v))
        }
        Raw::Json(value) => crate::params::json_nul_path(value),
        _ => None,
    };
    match path {
        Some(path) if path.starts_with('[') => format!("{name}{path}"),
        Some(path) if !path.is_empty() => format!("{name}.{path}"),
        _ => name.to_owned(),
    }
}

/// The project parameter of a bare `project_required`.
const PROJECT_ID: &str = "project_id";

/// Step 3 ends, on project-scoped endpoints: the project parameter `name` (any source;
/// numbers may come as strings) → `ctx.project` and `ctx.membership`. Empty means no
/// project; not a positive integer → 400. A caller who is not an enabled member gets the
/// 403 of a denied permission whether or not the project exists (no probing for project
/// ids); only global superusers, who may see every project, learn of a missing one (404).
async fn resolve_project(ctx: &mut Ctx, name: &'static str, raw: Raw) -> Result<(), ApiError> {
    let raw = unwrap_select(raw);
    if matches!(&raw, Raw::Json(Value::Null)) || raw.as_str().is_some_and(|s| s.trim().is_empty()) {
        return Ok(());
    }
    let id = match i64::from_param(raw, ctx.app.coerce_cx()) {
        Ok(id) if id > 0 => id,
        Ok(_) => return Err(invalid_project_id(name, "must be a positive integer".into())),
        Err(e) => return Err(invalid_project_id(name, e.to_string())),
    };
    let superuser = ctx.user().is_some_and(|u| u.is_superuser);
    let checker = ctx.app.clone();
    match checker.permissions().project(ctx, id).await {
        Ok(Some((project, membership))) => {
            if !superuser && !membership.as_ref().is_some_and(|m| m.enabled) {
                return Err(ApiError::Forbidden);
            }
            ctx.project = Some(project);
            ctx.membership = membership;
            Ok(())
        }
        Ok(None) if superuser => Err(ApiError::NotFound),
        Ok(None) => Err(ApiError::Forbidden),
        Err(e) => Err(e),
    }
}

fn invalid_project_id(name: &str, problem: String) -> ApiError {
    let message = format!("invalid value for parameter '{name}': {problem}");
    let mut errors = FieldErrors::new();
    errors.insert(name.to_owned(), vec![problem]);
    ApiError::BadRequest { message, errors }
}

/// The declared parameter (or model index field) called `key`, as its `'static` name.
fn declared_name(endpoint: &'static Endpoint, settings: &Settings, key: &str) -> Option<&'static str> {
    let param = endpoint.params.iter().filter_map(|p| p.name_in(settings)).find(|name| *name == key);
    param.or_else(|| endpoint.model.as_ref().map(|m| m.index_field).filter(|name| *name == key)).or_else(|| {
        let paged = endpoint.params.iter().any(|p| p.kind == crate::routing::ArgKind::Page);
        paged.then(|| crate::params::PAGE_KEYS.into_iter().find(|k| *k == key)).flatten()
    })
}

/// A path parameter's key: the declared name when there is one (no allocation).
fn declared_key(endpoint: &'static Endpoint, settings: &Settings, key: &str) -> Cow<'static, str> {
    declared_name(endpoint, settings, key).map_or_else(|| Cow::Owned(key.to_owned()), Cow::Borrowed)
}

/// A `#[param(secret)]` in the query string is a 400: query strings end up in proxy,
/// server and browser logs and in `Referer` headers.
#[cold]
fn refuse_secrets_in_query(endpoint: &Endpoint, settings: &Settings, query: &str) -> Result<(), ApiError> {
    let secrets: Vec<&str> = endpoint.params.iter().filter(|p| p.secret).filter_map(|p| p.name_in(settings)).collect();
    for segment in query_segments(query) {
        let raw_key = segment.split('=').next().unwrap_or(segment);
        let key = decode_component(raw_key.as_bytes()).unwrap_or(Cow::Borrowed(raw_key));
        if let Some(name) = secrets.iter().find(|s| **s == key) {
            return Err(secret_in_query(name));
        }
    }
    Ok(())
}

/// The 400 for a secret sent in the query string.
fn secret_in_query(name: &str) -> ApiError {
    ApiError::field(name, "send it in the request body, never in the URL (query strings are logged)")
}

/// Whether text opens a JSON object (after leading whitespace).
fn opens_object(text: &str) -> bool {
    text.bytes().find(|b| !b.is_ascii_whitespace()) == Some(b'{')
}

/// `{"value": x, "label": ..}` (as sent by UI selects, also JSON-encoded) becomes `x`.
fn unwrap_select(raw: Raw) -> Raw {
    match raw {
        Raw::Json(Value::Object(mut map)) if map.contains_key("value") => {
            Raw::Json(map.remove("value").unwrap_or(Value::Null))
        }
        Raw::Text(ref s) | Raw::Json(Value::String(ref s)) if opens_object(s) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn text(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, Raw)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), Raw::Text((*v).to_owned()))).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn repeated_keys_become_lists_in_arrival_order() {
        let mut out = Entries::new();
        push_grouped(&mut out, text(&[("t", "a"), ("x", "1"), ("t", "b"), ("t", "c")]), 100).unwrap();
        assert_eq!(out.len(), 2);
        let (_, tags) = out.iter().find(|(k, _)| k == "t").unwrap();
        let Raw::Many(items) = tags else { panic!("expected a list, got {tags:?}") };
        let values: Vec<_> = items.iter().filter_map(Raw::as_str).collect();
        assert_eq!(values, ["a", "b", "c"]);
    }

    #[test]
    fn an_earlier_source_keeps_priority() {
        let mut out = Entries::new();
        push_grouped(&mut out, text(&[("id", "path")]), 100).unwrap();
        push_grouped(&mut out, text(&[("id", "query")]), 100).unwrap();
        assert_eq!(out.iter().find(|(k, _)| k == "id").and_then(|(_, v)| v.as_str()), Some("path"));
    }

    #[test]
    fn too_many_fields_is_refused_quickly() {
        let mut out = Entries::new();
        let many = (0..5000).map(|i| (format!("k{i}"), Raw::Text(String::new())));
        let err = push_grouped(&mut out, many, 1000).unwrap_err();
        assert_eq!(err.to_string(), "too many parameters (limit is 1000)");
    }
}
