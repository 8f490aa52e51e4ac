//! The environment and `--set` layers: each value typed by the key it sets, each remembered with
//! where it came from, so an error can name the variable (or `--set`) and never a secret's value.

use serde_json::Value;

/// Keys whose values are secrets: never printed, not even in an error.
pub const SECRET_KEYS: &[&str] = &["mqtt.password"];

/// Optional keys that hold text (`null` by default, so their default value cannot tell).
const TEXT_OPTIONS: &[&str] = &[
    "device_id",
    "mqtt.username",
    "mqtt.password",
    "mqtt.password_file",
    "mqtt.password_credential",
    "mqtt.tls.ca_file",
    "mqtt.tls.cert_file",
    "mqtt.tls.key_file",
    "mqtt.tls.server_name",
    "sampler.emulated.mem",
];

/// One override: a dotted key, its raw text, and where it came from (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// Dotted key path (`mqtt.port`).
    pub key: String,
    /// The value as written.
    pub raw: String,
    /// `environment variable EDGETAP__MQTT__PORT` or `--set mqtt.port=…`.
    pub origin: String,
}

/// What the environment holds for edgetap: the overrides (`EDGETAP__SECTION__KEY`), and the
/// `EDGETAP_`-prefixed variables that match no key (a single underscore after the prefix).
pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> (Vec<Override>, Vec<String>) {
    let mut found = Vec::new();
    let mut unmatched = Vec::new();
    for (name, raw) in vars {
        if let Some(rest) = name.strip_prefix("EDGETAP__") {
            let key = rest
                .split("__")
                .map(str::to_ascii_lowercase)
                .collect::<Vec<_>>()
                .join(".");
            found.push(Override {
                key,
                raw,
                origin: format!("environment variable {name}"),
            });
        } else if name.starts_with("EDGETAP_") {
            unmatched.push(name);
        }
    }
    found.sort_by(|a, b| a.key.cmp(&b.key));
    (found, unmatched)
}

/// Parses a `--set key.path=value` argument.
pub fn from_set(item: &str) -> Option<Override> {
    let (key, raw) = item.split_once('=')?;
    Some(Override {
        key: key.to_owned(),
        raw: raw.to_owned(),
        origin: format!("--set {key}=…"),
    })
}

/// The value of `raw` for `key`, typed like the key's value in `probe` (the defaults merged
/// with the file): text stays text (`0123` stays `0123`), numbers and booleans are parsed,
/// lists and tables are read as JSON; a key with no typed default is JSON when it parses, text
/// otherwise. A value that does not fit stays text, so the type error names the key.
pub fn typed(key: &str, raw: &str, probe: Option<&Value>) -> Value {
    let text = || Value::String(raw.to_owned());
    let json = || serde_json::from_str::<Value>(raw).ok();
    if TEXT_OPTIONS.contains(&key) {
        return text();
    }
    match probe {
        Some(Value::String(_)) => text(),
        Some(Value::Number(_)) => json().filter(Value::is_number).unwrap_or_else(text),
        Some(Value::Bool(_)) => json().filter(Value::is_boolean).unwrap_or_else(text),
        _ => json().unwrap_or_else(text),
    }
}

/// The value at dotted `key` in `tree`, if any.
pub fn lookup<'a>(tree: &'a Value, key: &str) -> Option<&'a Value> {
    key.split('.').try_fold(tree, |node, part| node.get(part))
}

/// A deserialization message in the user's words: Rust type names (`expected u8`) become the
/// range they stand for.
pub fn plain_types(reason: &str) -> String {
    const NAMES: &[(&str, &str)] = &[
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65535"),
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        ("expected u64", "expected a whole number from 0 up"),
        ("expected usize", "expected a whole number from 0 up"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
    ];
    let mut out = reason.to_owned();
    for (rust, plain) in NAMES {
        // Whole words only: `expected u8` must not touch `expected u16`'s text.
        let mut at = 0;
        while let Some(i) = out[at..].find(rust).map(|i| i + at) {
            let end = i + rust.len();
            if out[end..].starts_with(|c: char| c.is_ascii_alphanumeric()) {
                at = end;
                continue;
            }
            out.replace_range(i..end, plain);
            at = i + plain.len();
        }
    }
    out
}

#[cfg(test)]
#[path = "overrides_tests.rs"]
mod tests;
