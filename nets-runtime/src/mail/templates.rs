//! E-mail templates: minijinja, looked up in `NETS_CORE_EMAIL_TEMPLATES_DIR` first and in
//! the templates built into the binary second, so an application overrides a shipped
//! template by writing a file of the same name.
//!
//! Built in (`nets-runtime/templates/`), under the original's names:
//!
//! | name | for |
//! |---|---|
//! | `nets_core/email/base_email.html` | the layout: blocks `title` and `content`, a button from `button_link = {url, label}` |
//! | `nets_core/email/verification_code.html` | one-time codes (the code is the button's label) |
//! | `nets_core/email/new_login.html` | "New access to your account" with `user`, `ip`, `device` |
//!
//! HTML templates (`.html`, `.htm`) escape every value; text templates do not.

use std::sync::OnceLock;

use minijinja::{Environment, ErrorKind, Value};

use super::outcome::Reason;

/// The templates shipped in the binary: (name, source).
const BUILT_IN: &[(&str, &str)] = &[
    ("nets_core/email/base_email.html", include_str!("../../templates/nets_core/email/base_email.html")),
    ("nets_core/email/verification_code.html", include_str!("../../templates/nets_core/email/verification_code.html")),
    ("nets_core/email/new_login.html", include_str!("../../templates/nets_core/email/new_login.html")),
];

/// A template that could not be rendered, mapped to the original's reason codes.
#[derive(Debug)]
pub(crate) struct RenderError {
    pub(crate) reason: Reason,
    pub(crate) detail: String,
}

impl RenderError {
    fn new(name: &str, e: &minijinja::Error) -> RenderError {
        let reason = match e.kind() {
            ErrorKind::TemplateNotFound => Reason::TemplateNotFound,
            // Syntax errors, and anything else that stops a render (an unknown filter,
            // a type error) — a template the application must fix.
            _ => Reason::TemplateSyntaxError,
        };
        RenderError { reason, detail: format!("{name} {e}") }
    }
}

/// The template environment of a [`Mailer`](super::Mailer): built once, on the first
/// e-mail (a server that sends none never runs the template engine's set-up).
pub(crate) struct Templates {
    dir: Option<String>,
    env: OnceLock<Environment<'static>>,
}

impl Templates {
    /// Templates from `dir` (when given) in front of the built-in ones.
    pub(crate) fn new(dir: Option<&str>) -> Templates {
        Templates { dir: dir.map(str::to_owned), env: OnceLock::new() }
    }

    fn env(&self) -> &Environment<'static> {
        self.env.get_or_init(|| {
            let mut env = Environment::new();
            let from_dir = self.dir.as_deref().map(minijinja::path_loader);
            env.set_loader(move |name| {
                if let Some(load) = &from_dir
                    && let Some(source) = load(name)?
                {
                    return Ok(Some(source));
                }
                Ok(BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, source)| (*source).to_owned().into()))
            });
            env
        })
    }

    /// Renders the template called `name`.
    pub(crate) fn render(&self, name: &str, ctx: &Value) -> Result<String, RenderError> {
        self.env().get_template(name).and_then(|t| t.render(ctx)).map_err(|e| RenderError::new(name, &e))
    }

    /// Renders template text given inline (`html` mode, database templates). `name`
    /// decides escaping (`.html` escapes) and names the template in errors.
    pub(crate) fn render_source(&self, name: &str, source: &str, ctx: &Value) -> Result<String, RenderError> {
        self.env().render_named_str(name, source, ctx).map_err(|e| RenderError::new(name, &e))
    }
}

/// Inserts `footer` before every `</body>` (any case). HTML without `</body>` is left as
/// it is, as in the original.
pub(crate) fn insert_footer(html: &str, footer: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len() + footer.len());
    let mut from = 0;
    while let Some(at) = lower[from..].find("</body>") {
        let at = from + at;
        out.push_str(&html[from..at]);
        out.push_str(footer);
        out.push_str("</body>");
        from = at + "</body>".len();
    }
    out.push_str(&html[from..]);
    out
}

/// The footer text wrapped as the original did, HTML-escaped.
pub(crate) fn footer_from_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 40);
    out.push_str("<span><i class=\"small\">");
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out.push_str("</i></span>");
    out
}

/// A plain-text alternative derived from HTML, for messages without a text template.
pub(crate) fn text_from_html(html: &str) -> String {
    html2text::from_read(html.as_bytes(), 78).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use minijinja::context;

    use super::*;

    #[test]
    fn built_in_templates_render_and_escape() {
        let t = Templates::new(None);
        let ctx = context! { button_link => context! { url => "", label => "123456" }, code => "<b>" };
        let html = t.render("nets_core/email/verification_code.html", &ctx).unwrap();
        assert!(html.contains("Here is your verification code"), "{html}");
        assert!(html.contains("123456"));
        assert!(html.contains("&lt;b&gt;"), "values are escaped in HTML templates");
        assert!(!html.contains("<script"), "no scripts in e-mails");
        let login = t
            .render(
                "nets_core/email/new_login.html",
                &context! { ip => "10.1.2.3", device => context! { name => "Pixel" } },
            )
            .unwrap();
        assert!(login.contains("New access to your account") && login.contains("10.1.2.3") && login.contains("Pixel"));
    }

    #[test]
    fn missing_and_broken_templates_map_to_reason_codes() {
        let t = Templates::new(None);
        let e = t.render("nope.html", &Value::UNDEFINED).unwrap_err();
        assert_eq!(e.reason, Reason::TemplateNotFound);
        assert!(e.detail.starts_with("nope.html"), "{}", e.detail);
        let e = t.render_source("inline.html", "{% if %}", &Value::UNDEFINED).unwrap_err();
        assert_eq!(e.reason, Reason::TemplateSyntaxError);
        let e = t.render_source("inline.html", "{% extends 'gone.html' %}", &Value::UNDEFINED).unwrap_err();
        assert_eq!(e.reason, Reason::TemplateNotFound);
    }

    #[test]
    fn an_application_directory_overrides_built_in_templates() {
        let dir = std::env::temp_dir().join(format!("nets-tpl-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("nets_core/email")).unwrap();
        std::fs::write(
            dir.join("nets_core/email/base_email.html"),
            "<html><body>MINE {% block content %}{% endblock %}</body></html>",
        )
        .unwrap();
        let t = Templates::new(dir.to_str());
        let html = t.render("nets_core/email/verification_code.html", &Value::UNDEFINED).unwrap();
        assert!(html.starts_with("<html><body>MINE"), "{html}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn footers_go_before_the_closing_body_tag() {
        assert_eq!(insert_footer("<html><BODY>x</Body></html>", "F"), "<html><BODY>xF</body></html>");
        assert_eq!(insert_footer("<p>no body</p>", "F"), "<p>no body</p>");
        assert_eq!(footer_from_text("a<b>"), "<span><i class=\"small\">a&lt;b&gt;</i></span>");
    }

    #[test]
    fn text_parts_are_derived_from_html() {
        let text = text_from_html("<html><body><h1>Hi</h1><p>Your code is <b>42</b>.</p></body></html>");
        assert!(text.contains("Hi") && text.contains("Your code is") && text.contains("42"), "{text}");
        assert!(!text.contains('<'), "{text}");
    }
}
