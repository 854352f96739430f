//! [`Attachment`]: a file sent with an e-mail.

use lettre::message::header::ContentType;

/// A file attached to an e-mail: the original's `(filename, content)` and
/// `(filename, content, mimetype)` forms. The type is guessed from the file name when
/// not given (`application/octet-stream` when unknown).
///
/// ```
/// use nets_runtime::mail::Attachment;
///
/// let pdf = Attachment::new("invoice.pdf", b"%PDF-1.7".to_vec());
/// assert_eq!(pdf.content_type(), "application/pdf");
/// let raw = Attachment::new("data.bin", vec![0, 1]).with_content_type("application/x-thing");
/// assert_eq!(raw.content_type(), "application/x-thing");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    filename: String,
    content: Vec<u8>,
    content_type: Option<String>,
}

impl Attachment {
    /// `content` named `filename`.
    pub fn new(filename: impl Into<String>, content: impl Into<Vec<u8>>) -> Attachment {
        Attachment { filename: filename.into(), content: content.into(), content_type: None }
    }

    /// Sets the MIME type instead of guessing it.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Attachment {
        self.content_type = Some(content_type.into());
        self
    }

    /// The file name.
    pub fn filename(&self) -> &str {
        &self.filename
    }

    /// The MIME type: the one given, else guessed from the name.
    pub fn content_type(&self) -> String {
        match &self.content_type {
            Some(t) => t.clone(),
            None => mime_guess::from_path(&self.filename).first_or_octet_stream().essence_str().to_owned(),
        }
    }

    /// The lettre part, or why the attachment cannot be sent: a name that is empty,
    /// contains a path or control characters, or a type that is not a MIME type.
    pub(crate) fn to_part(&self) -> Result<lettre::message::SinglePart, String> {
        let name = self.filename.trim();
        if name.is_empty() || name.contains(['/', '\\']) || name.chars().any(char::is_control) {
            return Err(format!("attachment name {:?} must be a plain file name", self.filename));
        }
        let content_type = ContentType::parse(&self.content_type())
            .map_err(|_| format!("attachment {name}: {:?} is not a MIME type", self.content_type()))?;
        Ok(lettre::message::Attachment::new(name.to_owned()).body(self.content.clone(), content_type))
    }
}
