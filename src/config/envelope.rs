//! The envelope of a `config/set` payload: size, UTF-8, JSON object, `_request` and `_version`,
//! read before anything of the patch body is looked at.

use super::FieldError;
use serde_json::{Map, Value};

/// Largest accepted payload (bytes); bigger ones are refused before parsing.
pub const MAX_PAYLOAD: usize = 64 * 1024;

/// The metadata and body of a readable patch.
pub(super) struct Patch {
    pub(super) body: Map<String, Value>,
    pub(super) request: Option<String>,
    /// `_version`, or why it is refused: kept apart so the refusal can still echo `request`.
    pub(super) version: Result<Option<u64>, FieldError>,
}

/// Reads the envelope of a payload: size, UTF-8, JSON object, `_request`, `_version`.
///
/// Fails before `_request` could be read; a bad `_version` is reported in [`Patch::version`].
pub(super) fn read(payload: &[u8]) -> Result<Patch, FieldError> {
    let refuse = FieldError::new;
    if payload.len() > MAX_PAYLOAD {
        return Err(refuse(
            "",
            format!(
                "payload is {} bytes; the limit is {MAX_PAYLOAD}",
                payload.len()
            ),
        ));
    }
    let text = std::str::from_utf8(payload).map_err(|e| {
        refuse(
            "",
            format!("not UTF-8: invalid byte at offset {}", e.valid_up_to()),
        )
    })?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| refuse("", format!("bad JSON: {e}")))?;
    let Value::Object(mut body) = value else {
        return Err(refuse(
            "",
            format!(
                "a patch must be a JSON object (a merge patch), not {}",
                kind(&value)
            ),
        ));
    };
    let request = match body.remove("_request") {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            return Err(refuse(
                "_request",
                format!("must be a string, not {}", kind(&other)),
            ))
        }
    };
    let version = match body.remove("_version") {
        None => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) => Ok(Some(n)),
            None => Err(FieldError::new(
                "_version",
                format!("must be an integer 0-{}, not {}", u64::MAX, short(&v)),
            )),
        },
    };
    Ok(Patch {
        body,
        request,
        version,
    })
}

/// The `_version` of a readable payload when it is at or below `version`.
pub(super) fn stale_version(payload: &[u8], version: u64) -> Option<u64> {
    read(payload)
        .ok()
        .and_then(|p| p.version.ok().flatten())
        .filter(|v| *v <= version)
}

/// True when a retained `config/set` payload carries a `_version` at or below the persisted
/// version: it was applied before the restart and must be skipped without a reply.
pub fn is_stale_retained(payload: &[u8], persisted_version: u64) -> bool {
    stale_version(payload, persisted_version).is_some()
}

/// JSON type name, for reasons.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value for a reason, cut short so a reason stays one line.
fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}
