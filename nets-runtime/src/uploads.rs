//! Upload paths and local file storage.
//!
//! [`get_upload_path`] keeps the original library's layout,
//! `[PSMDOC_PROJ_<project_id>/]<model>/<YYYY>/<MM>/<DD>/<file name>` (UTC date), and
//! sanitises the client's file name, which the original only reduced to its last path
//! component: here it is the base name with no `..`, no separators and no control
//! characters, never empty, at most 255 bytes. [`LocalStorage`] writes files under a root
//! directory (`MEDIA_ROOT`), never outside it, and never over an existing file.
//!
//! [`UploadedFile::save`] names the stored file with the extension of the type sniffed
//! from its bytes, never the client's (the original kept `pwn.html` for a PNG-headed HTML
//! file). When you serve `MEDIA_ROOT`, also send `X-Content-Type-Options: nosniff` and,
//! for anything but images you display, `Content-Disposition: attachment`, so a browser
//! never renders an upload as a page of your site; for example with nginx:
//!
//! ```text
//! location /media/ {
//!     alias /srv/app/media/;
//!     add_header X-Content-Type-Options nosniff always;
//!     add_header Content-Disposition attachment always;
//! }
//! ```

use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Datelike, Utc};

use crate::params::UploadedFile;

/// Longest file name most file systems accept, in bytes.
const MAX_NAME_BYTES: usize = 255;

/// A client file name made safe to use as one path component.
///
/// ```
/// use nets_runtime::uploads::sanitize_file_name;
///
/// assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
/// assert_eq!(sanitize_file_name("C:\\Users\\ada\\cv.pdf"), "cv.pdf");
/// assert_eq!(sanitize_file_name("..."), "file");
/// assert_eq!(sanitize_file_name("ré sumé\u{0}.txt"), "ré sumé.txt");
/// ```
pub fn sanitize_file_name(name: &str) -> String {
    // The base name under either separator convention.
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect();
    // Leading dots would make hidden files (or `..`); trailing dots and spaces are
    // stripped by some file systems, making two names collide.
    let trimmed = cleaned.trim_start_matches(['.', ' ']).trim_end_matches(['.', ' ']);
    let name = if trimmed.is_empty() { "file" } else { trimmed };
    truncate_keeping_extension(name, MAX_NAME_BYTES)
}

fn truncate_keeping_extension(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let (stem, ext) = match name.rfind('.') {
        Some(dot) if name.len() - dot <= 16 => (&name[..dot], &name[dot..]),
        _ => (name, ""),
    };
    let mut cut = max - ext.len();
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{ext}", &stem[..cut])
}

/// Where an upload of `file_name` for `model` is stored, relative to the storage root.
///
/// ```
/// use chrono::TimeZone;
/// use nets_runtime::uploads::get_upload_path;
///
/// let day = chrono::Utc.with_ymd_and_hms(2026, 11, 23, 14, 0, 0).unwrap();
/// assert_eq!(get_upload_path("Note", "../../etc/passwd", None, day).to_str(), Some("note/2026/11/23/passwd"));
/// assert_eq!(get_upload_path("member", "c.pdf", Some(1), day).to_str(), Some("PSMDOC_PROJ_1/member/2026/11/23/c.pdf"));
/// ```
pub fn get_upload_path(model: &str, file_name: &str, project_id: Option<i64>, now: DateTime<Utc>) -> PathBuf {
    let mut path = PathBuf::new();
    if let Some(project) = project_id {
        path.push(format!("PSMDOC_PROJ_{project}"));
    }
    path.push(sanitize_file_name(&model.to_lowercase()));
    path.push(format!("{:04}", now.year()));
    path.push(format!("{:02}", now.month()));
    path.push(format!("{:02}", now.day()));
    path.push(sanitize_file_name(file_name));
    path
}

/// Why a file could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The path would leave the storage root.
    #[error("refusing to store outside the storage root: {0}")]
    OutsideRoot(PathBuf),
    /// The file system refused.
    #[error("could not store the file: {0}")]
    Io(#[from] std::io::Error),
}

impl From<StorageError> for crate::ApiError {
    fn from(e: StorageError) -> Self {
        crate::ApiError::internal(e)
    }
}

/// Files on the local disk under a root directory (`MEDIA_ROOT`).
#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    /// Storage under `root` (created on first save).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalStorage { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `bytes` at `relative` (as from [`get_upload_path`]) and returns the path
    /// actually used, relative to the root: `name-1.ext`, `name-2.ext`, … when the name is
    /// taken, so an upload never replaces another. The file appears whole or not at all
    /// (written to a temporary name, then renamed).
    pub async fn save(&self, relative: &Path, bytes: &[u8]) -> Result<PathBuf, StorageError> {
        inside_root(relative)?;
        let directory = relative.parent().unwrap_or(Path::new(""));
        tokio::fs::create_dir_all(self.root.join(directory)).await?;
        let file_name = relative.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        let (stem, ext) = match file_name.rfind('.') {
            Some(dot) if dot > 0 => (&file_name[..dot], &file_name[dot..]),
            _ => (file_name, ""),
        };
        let temporary = self.root.join(directory).join(format!(".upload-{}", uuid::Uuid::new_v4()));
        tokio::fs::write(&temporary, bytes).await?;
        for attempt in 0u32..1000 {
            let candidate = if attempt == 0 { file_name.to_owned() } else { format!("{stem}-{attempt}{ext}") };
            let target = self.root.join(directory).join(&candidate);
            // hard_link fails if the target exists: claiming a name is atomic, no overwrite race.
            match tokio::fs::hard_link(&temporary, &target).await {
                Ok(()) => {
                    tokio::fs::remove_file(&temporary).await?;
                    return Ok(directory.join(candidate));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    let _ = tokio::fs::remove_file(&temporary).await;
                    return Err(e.into());
                }
            }
        }
        let _ = tokio::fs::remove_file(&temporary).await;
        Err(StorageError::Io(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no free file name")))
    }

    /// Deletes the file at `relative` (as returned by [`save`](Self::save)), to undo a
    /// save whose record could not be written.
    pub async fn remove(&self, relative: &Path) -> Result<(), StorageError> {
        inside_root(relative)?;
        Ok(tokio::fs::remove_file(self.root.join(relative)).await?)
    }
}

/// Refuses a relative path that could leave the root (`..`, `/`, a drive prefix).
fn inside_root(relative: &Path) -> Result<(), StorageError> {
    match relative.components().all(|c| matches!(c, Component::Normal(_))) {
        true => Ok(()),
        false => Err(StorageError::OutsideRoot(relative.to_path_buf())),
    }
}

impl UploadedFile {
    /// The name the upload is stored under: the client's name, sanitised, with its
    /// extension replaced by the one of the type sniffed from the bytes
    /// ([`extension`](UploadedFile::extension)). A PNG named `pwn.html` is stored as
    /// `pwn.png`, so a web server that types files by extension never serves an upload
    /// as a page (stored XSS).
    ///
    /// ```
    /// use nets_runtime::params::UploadedFile;
    ///
    /// let png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0];
    /// let f = UploadedFile::new(Some("../cat.photo.html".into()), None, png.into());
    /// assert_eq!(f.storage_name(), "cat.photo.png");
    /// let text = UploadedFile::new(Some("notes".into()), Some("text/html".into()), "<b>hi</b>".into());
    /// assert_eq!(text.storage_name(), "notes.txt");
    /// ```
    pub fn storage_name(&self) -> String {
        let name = sanitize_file_name(self.file_name().unwrap_or("file"));
        let stem = match name.rfind('.') {
            Some(dot) if dot > 0 => &name[..dot],
            _ => name.as_str(),
        };
        truncate_keeping_extension(&format!("{stem}.{}", self.extension()), MAX_NAME_BYTES)
    }

    /// Saves the upload under `storage` at [`get_upload_path`] for `model` (today, UTC),
    /// named by [`storage_name`](Self::storage_name), and returns the stored path
    /// relative to the storage root.
    pub async fn save(
        &self,
        storage: &LocalStorage,
        model: &str,
        project_id: Option<i64>,
    ) -> Result<PathBuf, StorageError> {
        let relative = get_upload_path(model, &self.storage_name(), project_id, Utc::now());
        storage.save(&relative, self.bytes()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_become_one_safe_component() {
        for (input, expected) in [
            ("../../etc/passwd", "passwd"),
            ("..", "file"),
            ("", "file"),
            ("a/b\\c.txt", "c.txt"),
            (".bashrc", "bashrc"),
            ("name. . ", "name"),
            ("tab\there\r\n.png", "tabhere.png"),
            ("café ☕.jpg", "café ☕.jpg"),
        ] {
            assert_eq!(sanitize_file_name(input), expected, "{input:?}");
        }
        let long = format!("{}.pdf", "é".repeat(300));
        let safe = sanitize_file_name(&long);
        assert!(safe.len() <= 255 && safe.ends_with(".pdf"), "{safe}");
    }

    #[tokio::test]
    async fn saving_never_overwrites_and_never_leaves_the_root() {
        let root = std::env::temp_dir().join(format!("nets-storage-{}", uuid::Uuid::new_v4()));
        let storage = LocalStorage::new(&root);
        let first = storage.save(Path::new("note/2026/11/23/a.txt"), b"one").await.unwrap();
        let second = storage.save(Path::new("note/2026/11/23/a.txt"), b"two").await.unwrap();
        assert_eq!(first, Path::new("note/2026/11/23/a.txt"));
        assert_eq!(second, Path::new("note/2026/11/23/a-1.txt"));
        assert_eq!(tokio::fs::read(root.join(&first)).await.unwrap(), b"one");
        assert_eq!(tokio::fs::read(root.join(&second)).await.unwrap(), b"two");
        assert!(matches!(storage.save(Path::new("../escape.txt"), b"x").await, Err(StorageError::OutsideRoot(_))));
        assert!(matches!(storage.save(Path::new("/etc/x"), b"x").await, Err(StorageError::OutsideRoot(_))));
        assert!(matches!(storage.remove(Path::new("../escape.txt")).await, Err(StorageError::OutsideRoot(_))));
        storage.remove(&second).await.unwrap();
        assert!(!root.join(&second).exists() && root.join(&first).exists());
        // No temporary file is left behind.
        let mut entries = tokio::fs::read_dir(root.join("note/2026/11/23")).await.unwrap();
        while let Some(entry) = entries.next_entry().await.unwrap() {
            assert!(!entry.file_name().to_string_lossy().starts_with(".upload-"));
        }
        tokio::fs::remove_dir_all(&root).await.unwrap();
    }

    #[tokio::test]
    async fn uploads_are_stored_with_the_extension_of_their_real_type() {
        let root = std::env::temp_dir().join(format!("nets-storage-{}", uuid::Uuid::new_v4()));
        let storage = LocalStorage::new(&root);
        let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0];
        bytes.extend_from_slice(b"<html><script>alert(document.cookie)</script></html>");
        let file = UploadedFile::new(Some("pwn.html".into()), Some("text/html".into()), bytes.into());
        let stored = file.save(&storage, "user", None).await.unwrap();
        assert_eq!(stored.extension().and_then(|e| e.to_str()), Some("png"), "{stored:?}");
        assert_eq!(stored.file_name().and_then(|n| n.to_str()), Some("pwn.png"));
        let page = UploadedFile::new(Some("x.html".into()), Some("text/html".into()), "<script>1</script>".into());
        let stored = page.save(&storage, "user", None).await.unwrap();
        assert_eq!(stored.file_name().and_then(|n| n.to_str()), Some("x.txt"));
        tokio::fs::remove_dir_all(&root).await.unwrap();
    }
}
