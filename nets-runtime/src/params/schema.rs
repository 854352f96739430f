//! The OpenAPI description of a parameter type, independent of any OpenAPI crate so
//! that user types can describe themselves in a line; and the sink that collects the
//! component schemas endpoint records refer to (here rather than in `openapi`, so the
//! route records do not depend on the document builder).

use utoipa::openapi::{Ref, RefOr, schema::Schema};

/// JSON type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    /// `string`
    String,
    /// `integer`
    Integer,
    /// `number`
    Number,
    /// `boolean`
    Boolean,
    /// `array` (see [`ParamSchema::items`])
    Array,
    /// `object`
    Object,
    /// any JSON value
    Any,
    /// an uploaded file (`string`/`binary` in multipart bodies)
    File,
}

/// A parameter's schema: its JSON type, format and constraints.
///
/// `#[param(validate(..))]` rules are added to it when the OpenAPI document is built, so
/// what is enforced is what is documented.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSchema {
    /// The JSON type.
    pub kind: SchemaKind,
    /// OpenAPI `format`: `int64`, `date`, `date-time`, `email`, `uuid`, `uri`, ….
    pub format: Option<&'static str>,
    /// Regular expression the value matches.
    pub pattern: Option<String>,
    /// Inclusive lower bound of numbers.
    pub minimum: Option<f64>,
    /// Inclusive upper bound of numbers.
    pub maximum: Option<f64>,
    /// Exclusive lower bound of numbers.
    pub exclusive_minimum: Option<f64>,
    /// Exclusive upper bound of numbers.
    pub exclusive_maximum: Option<f64>,
    /// Minimum length of strings (or items of arrays).
    pub min_length: Option<u64>,
    /// Maximum length of strings (or items of arrays).
    pub max_length: Option<u64>,
    /// Element schema of arrays.
    pub items: Option<Box<ParamSchema>>,
}

impl ParamSchema {
    /// A schema of the given kind with no format or constraints.
    pub const fn of(kind: SchemaKind) -> Self {
        ParamSchema {
            kind,
            format: None,
            pattern: None,
            minimum: None,
            maximum: None,
            exclusive_minimum: None,
            exclusive_maximum: None,
            min_length: None,
            max_length: None,
            items: None,
        }
    }
    /// `{"type": "string"}`
    pub const fn string() -> Self {
        Self::of(SchemaKind::String)
    }
    /// `{"type": "array", "items": ..}`
    pub fn array(items: ParamSchema) -> Self {
        ParamSchema { items: Some(Box::new(items)), ..Self::of(SchemaKind::Array) }
    }
    /// Sets `format`.
    pub fn with_format(mut self, format: &'static str) -> Self {
        self.format = Some(format);
        self
    }
    /// Sets `pattern`.
    pub fn with_pattern(mut self, pattern: impl Into<String>) -> Self {
        self.pattern = Some(pattern.into());
        self
    }
    /// Sets inclusive `minimum`/`maximum`.
    pub fn with_range(mut self, minimum: Option<f64>, maximum: Option<f64>) -> Self {
        self.minimum = minimum;
        self.maximum = maximum;
        self
    }
}

/// Collects named component schemas while operations are built.
#[doc(hidden)]
#[derive(Default)]
pub struct SchemaSink {
    pub(crate) schemas: Vec<(String, RefOr<Schema>)>,
    /// Which of `schemas` are request bodies (dropped when no operation uses them).
    pub(crate) bodies: Vec<String>,
}

impl SchemaSink {
    /// Adds the schema of a `ToSchema` type (and the schemas it references) and
    /// returns the schema to use in place.
    pub fn add<T: utoipa::ToSchema>(&mut self) -> RefOr<Schema> {
        T::schemas(&mut self.schemas);
        let name = T::name();
        let schema = <T as utoipa::PartialSchema>::schema();
        match &schema {
            RefOr::T(Schema::Object(o)) if !o.properties.is_empty() && !name.is_empty() => {
                self.schemas.push((name.to_string(), schema));
                RefOr::Ref(Ref::from_schema_name(name))
            }
            _ => schema,
        }
    }
}
