//! `init`: writes a commented `nets.toml` listing every setting, its default, its
//! environment variable and its meaning (the original's `nets-settings --create`, which
//! overwrote `celery.py` without a backup and wrote JSON into a Python file).
//!
//! The text comes from [`Settings`] itself: the order and defaults from serialising
//! `Settings::default()`, the meanings from the field docs (through its `ToSchema`
//! derive), so the file cannot drift from the code.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::de::{Deserializer as _, MapAccess, Visitor};
use serde_json::Value;

use super::BoxError;
use crate::Settings;

/// Comment lines are wrapped at this width.
const WIDTH: usize = 88;

/// Writes the reference file at `path`. An existing file is replaced only with `force`,
/// after being renamed to `<name>.<YYYYmmddHHMMSS>.bak` next to it.
pub(super) fn run(path: &Path, force: bool) -> Result<ExitCode, BoxError> {
    let text = reference()?;
    if path.exists() {
        if !force {
            return Err(format!(
                "{} exists: pass --force to replace it (the old file is kept as a backup)",
                path.display()
            )
            .into());
        }
        let backup = backup_path(path);
        std::fs::rename(path, &backup)
            .map_err(|e| format!("cannot back up {} to {}: {e}", path.display(), backup.display()))?;
        eprintln!("kept the old file as {}", backup.display());
    }
    // `create_new`: never overwrite a file that appeared since the check above.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// `nets.toml.20261204093000.bak`, or with `-1`, `-2`, .. when that exists already.
fn backup_path(path: &Path) -> PathBuf {
    let stamp = chrono::Local::now().format("%Y%m%d%H%M%S");
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "nets.toml".into());
    let mut backup = path.with_file_name(format!("{name}.{stamp}.bak"));
    let mut n = 0;
    while backup.exists() {
        n += 1;
        backup = path.with_file_name(format!("{name}.{stamp}-{n}.bak"));
    }
    backup
}

/// The commented reference of every setting: each one commented out at its default, so
/// the file changes nothing until a line is uncommented.
pub(super) fn reference() -> Result<String, BoxError> {
    let schema = serde_json::to_value(<Settings as utoipa::PartialSchema>::schema())?;
    let described =
        schema.get("properties").and_then(Value::as_object).ok_or("the settings schema has no properties")?;
    let mut out = String::from(
        "# nets settings: every setting nets reads, commented out at its default.\n\
         # Uncomment and change what you need. The environment variable of a setting's name\n\
         # wins over this file; NETS_CONFIG names another file than ./nets.toml.\n",
    );
    let link = regex::Regex::new(r"\[([^\]]+)\]\([^)]*\)")?;
    for (key, default) in in_declaration_order(&Settings::default())? {
        let property = described.get(&key).unwrap_or(&Value::Null);
        let meaning = meaning(&key, property.get("description").and_then(Value::as_str).unwrap_or(""), &link);
        if crate::settings::read_from_environment(&key) {
            writeln!(out, "\n# {key} (environment variable {key})")?;
        } else {
            writeln!(out, "\n# {key} (this file only)")?;
        }
        for line in wrap(&meaning) {
            writeln!(out, "# {line}")?;
        }
        match default {
            Value::Null => writeln!(out, "# {key} = {}    # unset by default", placeholder(property))?,
            value => writeln!(out, "# {key} = {}", toml_value(&value))?,
        }
    }
    Ok(out)
}

/// The settings' `(key, value)` pairs in the struct's field order (`serde_json::Value`
/// maps are sorted, so the pairs are read off the serialised text instead).
fn in_declaration_order(settings: &Settings) -> Result<Vec<(String, Value)>, BoxError> {
    struct Pairs;
    impl<'de> Visitor<'de> for Pairs {
        type Value = Vec<(String, Value)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of settings")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut pairs = Vec::new();
            while let Some(pair) = map.next_entry()? {
                pairs.push(pair);
            }
            Ok(pairs)
        }
    }
    let text = serde_json::to_string(settings)?;
    Ok(serde_json::Deserializer::from_str(&text).deserialize_map(Pairs)?)
}

/// The field doc without its leading "`KEY`: ", on one line, with rustdoc links
/// (`link` matches them) reduced to their text: [`Mailer`](crate::mail::Mailer) -> `Mailer`.
fn meaning(key: &str, doc: &str, link: &regex::Regex) -> String {
    let doc = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    let doc = doc.strip_prefix(&format!("`{key}`")).unwrap_or(&doc).trim_start_matches(':').trim();
    let doc = link.replace_all(doc, "$1");
    let mut chars = doc.chars();
    match chars.next() {
        None => "(no description)".to_owned(),
        Some(first) => first.to_uppercase().chain(chars).collect(),
    }
}

/// `text` in lines of at most [`WIDTH`] characters (longer words stay whole).
fn wrap(text: &str) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last().map_or(0, String::len);
        if line > 0 && line + 1 + word.len() > WIDTH {
            lines.push(String::new());
        }
        if let Some(line) = lines.last_mut() {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// A TOML literal for `value`. JSON strings, numbers, booleans and arrays of them are
/// valid TOML as JSON writes them; tables are written inline.
fn toml_value(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let entries: Vec<String> =
                map.iter().map(|(k, v)| format!("{} = {}", Value::String(k.clone()), toml_value(v))).collect();
            format!("{{ {} }}", entries.join(", "))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(toml_value).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

/// What to write for a setting without a default, from its schema type.
fn placeholder(property: &Value) -> &'static str {
    let types = property.get("type").map(Value::to_string).unwrap_or_default();
    if types.contains("integer") || types.contains("number") {
        "0"
    } else if types.contains("boolean") {
        "false"
    } else if types.contains("array") {
        "[]"
    } else {
        "\"...\""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uncommenting every line that has a default must give exactly the defaults: the
    /// file is valid TOML and says what the code does.
    #[test]
    fn the_reference_uncommented_is_the_defaults() {
        let text = reference().unwrap();
        let uncommented: String = text
            .lines()
            .filter(|l| l.starts_with("# ") && l.contains(" = ") && !l.contains("# unset by default"))
            .filter(|l| l[2..].split(' ').next().is_some_and(|k| k.chars().all(|c| c.is_ascii_uppercase() || c == '_')))
            .map(|l| format!("{}\n", &l[2..]))
            .collect();
        let parsed = Settings::from_toml(&uncommented).unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
        assert!(parsed == Settings::default(), "uncommented defaults differ:\n{uncommented}");
    }

    #[test]
    fn every_setting_is_listed_with_its_meaning_and_environment_variable() {
        let text = reference().unwrap();
        for (key, _) in in_declaration_order(&Settings::default()).unwrap() {
            assert!(text.contains(&format!("# {key} (environment variable {key})")), "{key} missing");
        }
        assert!(
            text.contains("# DEBUG (environment variable DEBUG)\n# Development mode.\n# DEBUG = false\n"),
            "{text}"
        );
        assert!(text.contains("# REDIS_URL = \"...\"    # unset by default"), "{text}");
        assert!(!text.contains("](crate::"), "rustdoc links left in:\n{text}");
        // Headings and value lines are as long as the setting's name and value.
        let setting_line = |l: &str| l.split(' ').nth(2).is_some_and(|w| w == "=" || w.starts_with('('));
        let long = text.lines().find(|l| l.len() > WIDTH + 2 && !setting_line(l) && l[2..].contains(' '));
        assert_eq!(long, None, "comment lines are wrapped");
    }
}
