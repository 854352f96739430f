//! [`UploadedFile`]: a `multipart/form-data` file part, with its real content type.

use bytes::Bytes;

use super::{CoerceCx, CoerceError, FromParam, ParamSchema, Raw, SchemaKind};

/// A file uploaded in a `multipart/form-data` body.
///
/// [`content_type`](Self::content_type) is what the bytes *are* (sniffed from their
/// magic numbers), not what the client claims; `#[param(filetypes = [..])]` checks it,
/// so renaming `evil.exe` to `cat.png` does not get it past a `["image/png"]` filter.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    file_name: Option<String>,
    declared_type: Option<String>,
    content_type: String,
    bytes: Bytes,
}

impl UploadedFile {
    /// Builds a file from a part's raw data and sniffs its content type.
    ///
    /// ```
    /// use nets_runtime::params::UploadedFile;
    ///
    /// let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0];
    /// let f = UploadedFile::new(Some("cat.txt".into()), Some("text/plain".into()), png.to_vec().into());
    /// assert_eq!(f.content_type(), "image/png");
    /// ```
    pub fn new(file_name: Option<String>, declared_type: Option<String>, bytes: Bytes) -> Self {
        let content_type = sniff(&bytes, declared_type.as_deref());
        UploadedFile { file_name, declared_type, content_type, bytes }
    }
    /// The client's file name, unmodified. Never use it as a path: sanitise it first.
    pub fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }
    /// The content type the client declared for the part.
    pub fn declared_type(&self) -> Option<&str> {
        self.declared_type.as_deref()
    }
    /// The content type detected from the bytes.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }
    /// The file's bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }
    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The file extension of the detected [`content_type`](Self::content_type), without
    /// the dot: what the bytes are, whatever the client named the file. Text without a
    /// signature, and markup or scripts (HTML, XML, shell), are `txt` (or `csv`/`json` when
    /// declared so): no upload gets an extension a web server would serve as a page.
    ///
    /// ```
    /// use nets_runtime::params::UploadedFile;
    ///
    /// let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0];
    /// png.extend_from_slice(b"<script>alert(1)</script>");
    /// let f = UploadedFile::new(Some("pwn.html".into()), Some("text/html".into()), png.into());
    /// assert_eq!(f.extension(), "png");
    /// ```
    pub fn extension(&self) -> &'static str {
        // Markup and scripts (`infer`'s text matchers: HTML, XML, shell) are stored as
        // text: a page or script extension is what turns an upload into stored XSS.
        if let Some(kind) = infer::get(&self.bytes).filter(|k| k.matcher_type() != infer::MatcherType::Text) {
            return kind.extension();
        }
        match self.content_type.as_str() {
            "text/csv" => "csv",
            "application/json" => "json",
            "application/octet-stream" => "bin",
            _ => "txt",
        }
    }
}

/// Magic numbers first; bytes without a signature are text when they are UTF-8 (then the
/// client's `text/*` type is believed, as text formats have no signature), else opaque.
fn sniff(bytes: &[u8], declared: Option<&str>) -> String {
    if let Some(kind) = infer::get(bytes) {
        return kind.mime_type().to_owned();
    }
    if std::str::from_utf8(bytes).is_ok() {
        let essence = declared.map(|d| d.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        return match essence {
            Some(t) if t.starts_with("text/") || t == "application/json" => t,
            _ => "text/plain".to_owned(),
        };
    }
    "application/octet-stream".to_owned()
}

/// Whether `content_type` matches one of `allowed` (`image/png`, `image/*`, `*/*`).
pub(crate) fn type_allowed(content_type: &str, allowed: &[&str]) -> bool {
    allowed.iter().any(|pattern| match pattern.strip_suffix("/*") {
        Some("*") => true,
        Some(major) => content_type.split('/').next() == Some(major),
        None => pattern.eq_ignore_ascii_case(content_type),
    })
}

impl FromParam for UploadedFile {
    const TYPE_NAME: &'static str = "a file upload (multipart/form-data)";

    fn from_param(raw: Raw, _: &CoerceCx) -> Result<Self, CoerceError> {
        match raw {
            Raw::File(file) => Ok(*file),
            other => Err(CoerceError::expected(Self::TYPE_NAME, &other)),
        }
    }

    fn schema() -> ParamSchema {
        ParamSchema::of(SchemaKind::File).with_format("binary")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_type_wins_over_the_declared_one() {
        let pdf = b"%PDF-1.4 rest".to_vec();
        let f = UploadedFile::new(Some("a.png".into()), Some("image/png".into()), pdf.into());
        assert_eq!(f.content_type(), "application/pdf");
        let csv = UploadedFile::new(None, Some("text/csv; charset=utf-8".into()), "a,b\n".into());
        assert_eq!(csv.content_type(), "text/csv");
        let blob = UploadedFile::new(None, Some("text/plain".into()), vec![0xff, 0xfe, 0x00, 0x81].into());
        assert_eq!(blob.content_type(), "application/octet-stream");
    }

    #[test]
    fn wildcards() {
        assert!(type_allowed("image/png", &["image/*"]));
        assert!(type_allowed("image/png", &["IMAGE/PNG"]));
        assert!(!type_allowed("application/pdf", &["image/*", "text/plain"]));
        assert!(type_allowed("application/pdf", &["*/*"]));
    }
}
