//! The profile picture of a social login, downloaded into the user's avatar file field
//! by a durable job (the original's `get_google_avatar` task, §13): never during the
//! login, which a slow or broken picture server must not fail. Only while the field is
//! empty (what the user uploaded stays), only images (sniffed from the bytes, not the
//! server's word), at most the user table's file size, with the social timeout, and
//! stored through the upload storage like an `/update/` upload. Up to
//! [`MAX_REDIRECTS`] redirects are followed (Facebook's `picture` answers with one to its
//! CDN), to http(s) URLs only and never from https down to http.

use reqwest::Url;
use reqwest::header::LOCATION;
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

/// Redirects followed to a picture: the providers' take one (a CDN); more is a loop.
const MAX_REDIRECTS: usize = 3;

/// Where a redirect from `from` to `location` leads, if the picture may be fetched
/// there: a URL relative to `from` or absolute, http(s), not https down to http (the
/// provider's address came over TLS; a downgrade would let the network swap the picture).
fn next_hop(from: &Url, location: Option<&str>) -> Result<Url, String> {
    let location = location.ok_or("the picture server redirected without a (readable) Location")?;
    let to = from.join(location).map_err(|e| format!("the picture server redirected to {location:?}: {e}"))?;
    match (from.scheme(), to.scheme()) {
        ("https", "http") => Err(format!("the picture server redirected from https to http ({to})")),
        (_, "http" | "https") => Ok(to),
        _ => Err(format!("the picture server redirected to {to}, not an http(s) URL")),
    }
}

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
        let mut url = match Url::parse(url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => url,
            _ => return Err(JobError::permanent(format!("not an http(s) URL: {url}"))),
        };
        if !self.wants_avatar(user).await {
            return Ok(()); // set meanwhile (an upload): keep it
        }
        let users = self.0.accounts.users();
        let max = users.max_file_bytes();
        // Followed here, not by the client: its calls to the providers' APIs follow none.
        let mut hops = 0;
        let mut response = loop {
            let response = self.0.http.get(url.clone()).send().await.map_err(JobError::retry)?;
            if !response.status().is_redirection() || response.status() == reqwest::StatusCode::NOT_MODIFIED {
                break response;
            }
            hops += 1;
            if hops > MAX_REDIRECTS {
                return Err(JobError::permanent(format!("more than {MAX_REDIRECTS} redirects from the picture URL")));
            }
            let location = response.headers().get(LOCATION).and_then(|l| l.to_str().ok());
            url = next_hop(&url, location).map_err(JobError::permanent)?;
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(from: &str, location: Option<&str>) -> Result<String, String> {
        next_hop(&Url::parse(from).unwrap(), location).map(String::from)
    }

    #[test]
    fn redirects_lead_to_http_urls_relative_to_the_last_one() {
        let from = "https://graph.example/v19.0/1/picture?type=large";
        assert_eq!(hop(from, Some("https://cdn.example/p.jpg")), Ok("https://cdn.example/p.jpg".into()));
        assert_eq!(hop(from, Some("/p/2.jpg")), Ok("https://graph.example/p/2.jpg".into()));
        assert_eq!(hop(from, Some("2.jpg")), Ok("https://graph.example/v19.0/1/2.jpg".into()));
        assert_eq!(hop("http://pics.example/a", Some("https://pics.example/b")), Ok("https://pics.example/b".into()));
        assert_eq!(hop("http://pics.example/a", Some("http://other.example/b")), Ok("http://other.example/b".into()));
    }

    #[test]
    fn downgrades_other_schemes_and_missing_locations_are_refused() {
        let from = "https://pics.example/a";
        let refused = |location: Option<&str>, says: &str| {
            let e = hop(from, location).expect_err("refused");
            assert!(e.contains(says), "{e}");
        };
        refused(Some("http://pics.example/a"), "from https to http");
        refused(Some("file:///etc/passwd"), "not an http(s) URL");
        refused(Some("ftp://pics.example/a"), "not an http(s) URL");
        refused(None, "without a (readable) Location");
        refused(Some("https://[::1"), "redirected to");
    }
}
