//! Wiring checked before serving: what each endpoint an app serves needs (state, a
//! database, an authenticator, a permission checker that resolves projects) and what
//! modules check for themselves. [`AppBuilder::build`](crate::AppBuilder::build) lists
//! every problem instead of letting each become a 500 at request time.

use std::fmt;

use crate::App;
use crate::routing::{ArgKind, Endpoint};

/// One missing piece of wiring.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// The endpoint (name, source location and path) or module that needs it.
    pub who: String,
    /// What it needs.
    pub needs: String,
}

impl Problem {
    fn endpoint(e: &Endpoint, needs: String) -> Problem {
        Problem { who: format!("endpoint `{}` ({} {})", e.name, e.route_path(), e.location()), needs }
    }

    pub(crate) fn module(what: &str, needs: String) -> Problem {
        Problem { who: what.to_owned(), needs }
    }
}

/// Every problem [`AppBuilder::build`](crate::AppBuilder::build) found, one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the app is missing {} piece(s) of wiring:", self.0.len())?;
        for p in &self.0 {
            write!(f, "\n  - {} needs {}", p.who, p.needs)?;
        }
        Ok(())
    }
}

/// What the endpoints `app` serves lack. `authenticator`: whether one was configured.
pub(crate) fn problems(app: &App, authenticator: bool) -> Vec<Problem> {
    let mut out = Vec::new();
    for e in app.endpoints() {
        if !e.public && !authenticator {
            let needs = "an authenticator (AppBuilder::authenticator, or install OAuth), or `public`".to_owned();
            out.push(Problem::endpoint(e, needs));
        }
        if e.project.is_some() && !app.permissions().resolves_projects() {
            let needs = "a permission checker that resolves projects for its project scope (install Perms)".to_owned();
            out.push(Problem::endpoint(e, needs));
        }
        out.extend((e.missing)(e, app).into_iter().map(|needs| Problem::endpoint(e, needs)));
        if let Some(needs) = model_taken_twice(e) {
            out.push(Problem::endpoint(e, needs));
        }
        if let Some(needs) = headers_taken_twice(e) {
            out.push(Problem::endpoint(e, needs));
        }
        if let Some(needs) = websocket_shape(e) {
            out.push(Problem::endpoint(e, needs));
        }
    }
    out
}

/// The `model = T` object is loaded once and handed to one argument: a second model
/// argument would find it gone (the macro cannot tell, since a model is known by its
/// type's `HandlerArg`, which an alias hides).
fn model_taken_twice(e: &Endpoint) -> Option<String> {
    taken_twice(
        e,
        ArgKind::Model,
        "model",
        "the `model = ..` object is loaded once; take it once, and the others by id",
    )
}

/// The headers are handed over once (moved, not copied): a second `HeaderMap` argument
/// would get an empty map.
fn headers_taken_twice(e: &Endpoint) -> Option<String> {
    taken_twice(e, ArgKind::Headers, "`HeaderMap`", "the headers are handed over once")
}

/// "one <what> argument, not N (`a`, `b`): <why>" when several arguments are of `kind`.
fn taken_twice(e: &Endpoint, kind: ArgKind, what: &str, why: &str) -> Option<String> {
    let names: Vec<&str> = e.params.iter().filter(|p| p.kind == kind).map(|p| p.name).collect();
    (names.len() > 1).then(|| format!("one {what} argument, not {} (`{}`): {why}", names.len(), names.join("`, `")))
}

/// A WebSocket endpoint answers the upgrade, a GET, and nothing else; and a request
/// has one upgrade. (The macro refuses other methods when the argument is spelled
/// `WebSocketUpgrade`; a type alias hides it from the macro, not from this check.)
fn websocket_shape(e: &Endpoint) -> Option<String> {
    if !e.params.iter().any(|p| p.kind == ArgKind::WebSocket) {
        return None;
    }
    if e.methods() != [crate::routing::Method::Get] {
        return Some("`method = GET` only: it is a WebSocket endpoint (a `WebSocketUpgrade` argument)".to_owned());
    }
    taken_twice(e, ArgKind::WebSocket, "`WebSocketUpgrade`", "a request upgrades once")
}
