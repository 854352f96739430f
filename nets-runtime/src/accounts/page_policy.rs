//! The security headers of the `/requestDelete/` page.
//!
//! The page is where a person gives up their account, so it must not be framed
//! (clickjacking), sniffed into another type, or run script it did not ship. Its
//! `Content-Security-Policy` starts from `default-src 'none'` and allows exactly what
//! the page uses: its own inline `<script>` and `<style>` elements, each by the SHA-256
//! hash of its text (computed from the rendered page, so a custom
//! `NETS_CORE_DELETE_ACCOUNT_TEMPLATE` gets the same protection without nonces), `fetch`
//! to the same origin (`/login/`, `/delete/`), forms posting to the same origin only, and
//! no `<base>` and no framing. Script from a URL, inline event handlers (`onclick=`),
//! `style=` attributes, images and fonts are all refused.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use base64::Engine;
use sha2::{Digest, Sha256};

/// The headers sent with the rendered `html`.
pub(super) fn headers(html: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy(html)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers
}

/// `default-src 'none'` plus the hashes of the page's inline scripts and styles.
pub(super) fn content_security_policy(html: &str) -> String {
    let mut policy = String::from("default-src 'none'");
    for (element, directive) in [("script", "script-src"), ("style", "style-src")] {
        let hashes: Vec<String> = inline_elements(html, element).map(|text| source_hash(&text)).collect();
        if !hashes.is_empty() {
            policy.push_str(&format!("; {directive} {}", hashes.join(" ")));
        }
    }
    policy.push_str("; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    policy
}

/// `'sha256-…'` of an element's text as the browser hashes it (UTF-8, after the HTML
/// parser turned CR LF and lone CR into LF).
fn source_hash(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let digest = Sha256::digest(normalized.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
}

/// The text of every inline `<element …>…</element>` (those with a `src` are skipped:
/// they are not allowed at all). `script` and `style` are raw-text elements, so their
/// text runs to the first `</element`, whatever it contains.
fn inline_elements<'a>(html: &'a str, element: &'a str) -> impl Iterator<Item = String> + 'a {
    let lower = html.to_ascii_lowercase();
    let open = format!("<{element}");
    let close = format!("</{element}");
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(start) = lower[at..].find(&open).map(|i| at + i) {
        let after_name = start + open.len();
        // `<scripts>` or `<styles>` are other tags.
        let is_tag = lower[after_name..].starts_with(|c: char| c == '>' || c == '/' || c.is_ascii_whitespace());
        let Some(tag_end) = lower[after_name..].find('>').map(|i| after_name + i) else { break };
        if !is_tag {
            at = after_name;
            continue;
        }
        let text_start = tag_end + 1;
        let Some(text_end) = lower[text_start..].find(&close).map(|i| text_start + i) else { break };
        let attributes = &lower[after_name..tag_end];
        if !has_src(attributes) {
            found.push(html[text_start..text_end].to_owned());
        }
        at = text_end + close.len();
    }
    found.into_iter()
}

fn has_src(attributes: &str) -> bool {
    attributes.split(|c: char| c.is_ascii_whitespace() || c == '/').any(|a| a == "src" || a.starts_with("src="))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_and_styles_are_hashed_as_the_browser_hashes_them() {
        let html = "<STYLE>a{}</STYLE><script>x()</script><script src=/a.js></script><scripts>no</scripts>\
                    <script type=\"module\">\r\ny()</script>";
        let policy = content_security_policy(html);
        assert!(policy.starts_with("default-src 'none'; script-src "), "{policy}");
        assert!(policy.contains(&source_hash("x()")), "{policy}");
        assert!(policy.contains(&source_hash("\ny()")), "CR LF is hashed as LF: {policy}");
        assert!(policy.contains(&format!("style-src {}", source_hash("a{}"))), "{policy}");
        assert!(!policy.contains(&source_hash("")), "a script with src is not allowed inline: {policy}");
        assert!(!policy.contains(&source_hash("no")), "{policy}");
        assert!(policy.ends_with("connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"));
        // The hash format browsers expect: base64 of SHA-256 (this is the example of the CSP spec).
        assert_eq!(source_hash("alert('Hello, world.');"), "'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='");
    }

    #[test]
    fn a_page_without_inline_code_allows_no_script_and_no_style() {
        let policy = content_security_policy("<p>hello</p><script src=\"https://cdn.example/x.js\"></script>");
        assert!(!policy.contains("script-src") && !policy.contains("style-src"), "{policy}");
    }
}
