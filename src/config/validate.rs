//! Validation: every rule names the key it checks and says why the value is refused. The rules
//! of a section live in its file; this one gathers them.

use super::error::{ConfigError, Refusals};
use super::{inputs, sampler, Config};

impl Config {
    /// Checks every rule; returns all refusals at once so a user fixes them in one go.
    ///
    /// The top-level keys are checked here, each section by its own file, in the order of the
    /// file.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut r = Refusals::default();
        r.check(
            is_id(&self.device_id),
            "device_id",
            format!(
                "`{}` must be 1-64 characters of A-Z, a-z, 0-9, `_` or `-`",
                self.device_id
            ),
        );
        for (i, g) in self.groups.iter().enumerate() {
            r.check(
                is_id(g),
                &format!("groups[{i}]"),
                format!("`{g}` must be 1-64 characters of A-Z, a-z, 0-9, `_` or `-`"),
            );
        }
        r.check(
            !self.state_dir.as_os_str().is_empty(),
            "state_dir",
            "must not be empty".into(),
        );
        if let Some(user) = &self.run_as {
            r.check(
                is_user_name(user),
                "run_as",
                format!(
                    "`{user}` must be a user name: 1-32 characters of a-z, A-Z, 0-9, `_`, `-` \
                     or `.`, not starting with `-`"
                ),
            );
        }
        sampler::validate(&self.sampler, &mut r);
        inputs::validate(&self.inputs, &mut r);
        self.batch.validate(&mut r);
        self.mqtt.validate(&mut r);
        self.stats.validate(&mut r);
        self.homeassistant.validate(&mut r);
        self.spool.validate(&mut r);
        self.mqtt.validate_listener(&mut r);
        r.into_result()
    }
}

fn is_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A user name as `useradd` accepts it (Debian's default rule, with `.`).
fn is_user_name(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && !s.starts_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
