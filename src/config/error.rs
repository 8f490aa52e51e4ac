//! How a refused value is reported: the key and the reason, collected for every rule at once.

use std::fmt;

/// One refused value: the key (`inputs[1].pin`) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// Dotted key path, with `[i]` for list items; empty for the whole document.
    pub field: String,
    /// Why the value is refused.
    pub reason: String,
}

impl FieldError {
    /// A refusal of `field` for `reason`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "{}: {}", self.field, self.reason)
        }
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The layers could not be read or merged (missing file, TOML syntax, bad override).
    #[error("cannot load config: {0}")]
    Load(String),
    /// One or more values are refused.
    #[error("invalid config: {}", join(.0))]
    Invalid(Vec<FieldError>),
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The refusals found so far, in the order checked.
#[derive(Debug, Default)]
pub(super) struct Refusals(Vec<FieldError>);

impl Refusals {
    /// Refuses `field` for `reason` unless `ok`.
    pub(super) fn check(&mut self, ok: bool, field: &str, reason: String) {
        if !ok {
            self.0.push(FieldError::new(field, reason));
        }
    }

    /// Every refusal at once, or `Ok` when there was none.
    pub(super) fn into_result(self) -> Result<(), ConfigError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(self.0))
        }
    }
}
