//! `POST /update/`: the caller's updatable fields, and file fields through the upload
//! storage.
//!
//! Everything is checked before anything is written: prohibited names, then each value
//! and each file (field, sniffed type, size, stored path length). Only then are the files
//! saved (never over another file) and their paths written with the other fields in one
//! `UPDATE`, so `updated_fields` records them alike. A failed `UPDATE` removes the files it
//! saved. The previous file of a field is kept: its path stays in the history.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::Accounts;
use crate::params::{Raw, Rest, UploadedFile};
use crate::uploads::{LocalStorage, get_upload_path};
use crate::users::{FileField, UserChanges, UserTable, invalid_fields};
use crate::{ApiError, Ctx, FieldErrors};

/// The model name of user uploads: files land in `user/YYYY/MM/DD/`.
const UPLOAD_MODEL: &str = "user";

/// Room for the `-999` suffix storage adds when a name is taken.
const SUFFIX_ROOM: usize = 4;

/// The fields of an `/update/` request: values, and file parts by field name.
struct UpdateBody {
    /// Values (a form or multipart text part is a string, coerced like a form value).
    fields: Map<String, Value>,
    /// File parts by field name, in arrival order.
    files: Vec<(String, UploadedFile)>,
}

impl UpdateBody {
    /// Splits what the client sent; a field given twice is ambiguous (which value, or
    /// file, would be kept?) and refused.
    fn read(rest: Rest) -> Result<UpdateBody, ApiError> {
        let mut out = UpdateBody { fields: Map::new(), files: Vec::new() };
        for (name, raw) in rest.0 {
            match raw {
                Raw::File(file) => out.files.push((name, *file)),
                Raw::Text(text) => {
                    out.fields.insert(name, Value::String(text));
                }
                Raw::Json(value) => {
                    out.fields.insert(name, value);
                }
                Raw::Many(_) => return Err(ApiError::field(name, "sent more than once")),
            }
        }
        Ok(out)
    }

    /// Every field name the client sent.
    fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str).chain(self.files.iter().map(|(name, _)| name.as_str()))
    }
}

impl Accounts {
    /// `POST /update/`: writes the updatable fields sent and stores the files sent for
    /// file fields; a prohibited field is a 400 naming it. Answers the user's JSON.
    /// Values are coerced in the app's `TIME_ZONE` (naive date-times are local times).
    /// Keys that are no user column, and read-only fields sent with the value they hold,
    /// are ignored (and returned, for `extra.ignored`).
    pub(super) async fn update(&self, ctx: &Ctx, rest: Rest) -> Result<(Map<String, Value>, Vec<String>), ApiError> {
        let user = ctx.require_user()?.id;
        let body = UpdateBody::read(rest)?;
        let users = &self.0.users;
        let coerce = ctx.app().coerce_cx();
        let ignored = users.ignorable(self.0.oauth.db(), user, &body.fields, coerce).await?;
        self.refuse_prohibited(body.names().filter(|name| !ignored.contains(name)))?;
        let mut errors = FieldErrors::new();
        let mut changes = users.check_values(&body.fields, &ignored, coerce, &mut errors);
        let files = check_files(users, &body.files, &mut errors);
        if !errors.is_empty() {
            return Err(invalid_fields(errors));
        }
        let storage = &self.0.storage;
        let saved = store(storage, files, &mut changes).await?;
        if let Err(e) = users.write(self.0.oauth.db(), user, changes).await {
            remove_all(storage, &saved).await;
            return Err(e);
        }
        let ignored = ignored.into_iter().map(str::to_owned).collect();
        Ok((self.user_json(user, None).await?, ignored))
    }

    /// A 400 naming every prohibited field among `names`.
    fn refuse_prohibited<'a>(&self, names: impl Iterator<Item = &'a str>) -> Result<(), ApiError> {
        let mut prohibited: Vec<&str> = names.filter(|k| self.is_prohibited(k)).collect();
        if prohibited.is_empty() {
            return Ok(());
        }
        prohibited.sort_unstable();
        let mut errors = FieldErrors::new();
        for name in &prohibited {
            errors.entry((*name).to_owned()).or_default().push("this field cannot be updated".into());
        }
        Err(ApiError::BadRequest { message: format!("prohibited fields: {}", prohibited.join(", ")), errors })
    }
}

/// The files that may be stored, each with its field; a problem in `errors` for each
/// other one.
fn check_files<'t, 'f>(
    users: &'t UserTable,
    files: &'f [(String, UploadedFile)],
    errors: &mut FieldErrors,
) -> Vec<(FileField<'t>, &'f UploadedFile)> {
    let mut accepted = Vec::with_capacity(files.len());
    for (name, file) in files {
        match users.check_file(name, file).and_then(|field| fits(field, file).map(|()| field)) {
            Ok(field) => accepted.push((field, file)),
            Err(problem) => errors.entry(name.clone()).or_default().push(problem),
        }
    }
    accepted
}

/// Whether the path the file will be stored at fits the column (`VARCHAR(n)`), so a long
/// client file name is a 400 rather than a failed `UPDATE`.
fn fits(field: FileField<'_>, file: &UploadedFile) -> Result<(), String> {
    let Some(max) = field.max_chars() else { return Ok(()) };
    let planned = get_upload_path(UPLOAD_MODEL, &file.storage_name(), None, chrono::Utc::now());
    match path_text(&planned).chars().count() + SUFFIX_ROOM <= max {
        true => Ok(()),
        false => Err(format!("the file name is too long (the stored path must fit in {max} characters)")),
    }
}

/// Saves each file and records its path in `changes`. On a failure the files saved so far
/// are removed.
async fn store<'t>(
    storage: &LocalStorage,
    files: Vec<(FileField<'t>, &UploadedFile)>,
    changes: &mut UserChanges<'t>,
) -> Result<Vec<PathBuf>, ApiError> {
    let mut saved = Vec::with_capacity(files.len());
    for (field, file) in files {
        match file.save(storage, UPLOAD_MODEL, None).await {
            Ok(path) => {
                changes.set_file(field, path_text(&path));
                saved.push(path);
            }
            Err(e) => {
                remove_all(storage, &saved).await;
                return Err(e.into());
            }
        }
    }
    Ok(saved)
}

/// Best effort: a file that cannot be removed is logged, the request's error stands.
async fn remove_all(storage: &LocalStorage, saved: &[PathBuf]) {
    for path in saved {
        if let Err(e) = storage.remove(path).await {
            tracing::warn!(path = %path.display(), error = %e, "could not remove an upload whose update failed");
        }
    }
}

/// A stored path as the column holds it: `/`-separated whatever the platform.
fn path_text(path: &Path) -> String {
    path.iter().map(|part| part.to_string_lossy()).collect::<Vec<_>>().join("/")
}
