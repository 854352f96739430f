//! The profile picture of a social login, downloaded into the user's avatar file field
//! by a durable job (the original's `get_google_avatar` task, §13): never during the
//! login, which a slow or broken picture server must not fail. Only while the field is
//! empty (what the user uploaded stays), only images (sniffed from the bytes, not the
//! server's word), at most the user table's file size, with the social timeout, and
//! stored through the upload storage like an `/update/` upload.

use serde::{Deserialize, Serialize};

use super::Social;
use crate::jobs::{Job, JobError};
use crate::params::UploadedFile;

/// Downloads `url` into the avatar field (`NETS_CORE_SOCIAL_AVATAR_FIELD`) of user
/// `user_id`. Queued by a social login whose provider shares a picture, when the user
/// table has that file field and it is empty; registered on the app's workers by
/// installing [`Social`]. Its queue is `<prefix>:social.avatar`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialAvatar {
    /// The user.
    pub user_id: i64,
    /// The provider's picture URL (http or https).
    pub url: String,
}

impl Job for SocialAvatar {
    const NAME: &'static str = "social.avatar";
    type Context = Social;

    /// A picture server that fails or times out is retried with the queue's backoff; a
    /// picture that is not an image, too large, or a user without the field is dropped.
    async fn run(&self, social: &Social) -> Result<(), JobError> {
        social.store_avatar(self.user_id, &self.url).await
    }
}

/// The upload model of avatars: files land in `user/YYYY/MM/DD/`, as `/update/`'s.
const UPLOAD_MODEL: &str = "user";

impl Social {
    /// Whether a login of `user` should queue the download of a picture: the field is a
    /// file field of the user table and still empty.
    pub(super) async fn wants_avatar(&self, user: i64) -> bool {
        let Some(field) = self.avatar_field() else { return false };
        let accounts = &self.0.accounts;
        matches!(accounts.users().stored_file(accounts.oauth().db(), user, field).await, Ok(None))
    }

    /// The avatar field, when the user table takes files in it.
    fn avatar_field(&self) -> Option<&str> {
        let field = self.0.avatar_field.as_str();
        self.0.accounts.users().file_fields().any(|f| f == field).then_some(field)
    }

    pub(super) async fn store_avatar(&self, user: i64, url: &str) -> Result<(), JobError> {
        let Some(field) = self.avatar_field() else { return Ok(()) };
        if !url.starts_with("https://") && !url.starts_with("http://") {
            return Err(JobError::permanent(format!("not an http(s) URL: {url}")));
        }
        if !self.wants_avatar(user).await {
            return Ok(()); // set meanwhile (an upload): keep it
        }
        let users = self.0.accounts.users();
        let max = users.max_file_bytes();
        let mut response = self.0.http.get(url).send().await.map_err(JobError::retry)?;
        if !response.status().is_success() {
            let status = response.status();
            return match status.is_server_error() {
                true => Err(JobError::retry(format!("the picture server answered {status}"))),
                false => Err(JobError::permanent(format!("the picture server answered {status}"))),
            };
        }
        if response.content_length().is_some_and(|n| n > max as u64) {
            return Err(JobError::permanent(format!("the picture is larger than {max} bytes")));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(JobError::retry)? {
            if bytes.len() + chunk.len() > max {
                return Err(JobError::permanent(format!("the picture is larger than {max} bytes")));
            }
            bytes.extend_from_slice(&chunk);
        }
        let file = UploadedFile::new(Some("avatar".into()), None, bytes.into());
        if !file.content_type().starts_with("image/") {
            return Err(JobError::permanent(format!("the picture is {}, not an image", file.content_type())));
        }
        let checked = users.check_file(field, &file).map_err(JobError::permanent)?;
        let storage = self.0.accounts.storage();
        let path = file.save(storage, UPLOAD_MODEL, None).await.map_err(JobError::retry)?;
        let mut changes = users.no_changes();
        changes.set_file(checked, path.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>().join("/"));
        let db = self.0.accounts.oauth().db();
        if let Err(e) = users.write(db, user, changes).await {
            let _ = storage.remove(&path).await;
            return Err(JobError::retry(e.to_string()));
        }
        Ok(())
    }
}
