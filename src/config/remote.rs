//! Remote configuration: a JSON merge patch (RFC 7386) from a `config/set` topic is checked
//! exactly like the config file and becomes a new config with a new version, or is rejected with
//! the key and the reason. Pure: no MQTT and no disk here (the disk is in `persist`).
//!
//! Rules, in the order they are checked (the first failure is reported):
//! 1. at most [`MAX_PAYLOAD`](super::MAX_PAYLOAD) bytes (checked before anything is parsed);
//! 2. UTF-8, then JSON, then a JSON object;
//! 3. `_request` (optional) is a string; it is echoed in the result, also on rejection;
//! 4. `_version` (optional) is a u64 greater than the version in force and at most
//!    [`MAX_VERSION_STEP`] above it; without it the version in force + 1 is used. Group and
//!    device patches share this sequence. The bound is what keeps one patch from using up the
//!    sequence (`u64::MAX` would refuse every later patch, across restarts);
//! 5. every key exists in the config (unknown keys are refused, like in the file);
//! 6. local-only keys ([`LOCAL_ONLY`]) keep their value: they name this device, its groups or
//!    its local files, which a backend cannot know. A patch may carry them with the value in
//!    force, so a backend can send back the config it read;
//! 7. types (`inputs[1].pin: invalid type ...`), then [`Config::validate`].
//!
//! The password keys are local-only: a secret is set on the device and never stored in
//! `state_dir`. A patch may carry the redaction placeholder `***` for `mqtt.password` (the
//! published config sent back): it means "unchanged".
//!
//! Arrays are replaced as a whole (RFC 7386): to change one input, send the whole `inputs` list.
//! `null` removes a key, i.e. sets it back to its default. A patch that changes nothing is
//! accepted with a new version and an empty [`ChangeSet`]: the backend gets an ordinary
//! acknowledgement (and can use it to probe), and nothing is rebuilt.
//! No remotely changeable key is a path, so no relative path needs resolving here.

use super::changes::diff;
use super::changeset::ChangeSet;
use super::envelope::{read, stale_version, Patch};
use super::load::from_value;
use super::{Config, ConfigError, FieldError};
use serde::Serialize;
use serde_json::Value;

/// Keys a patch may not change, as dotted paths.
pub const LOCAL_ONLY: &[&str] = &[
    "device_id",
    "groups",
    "state_dir",
    "run_as",
    "mqtt.embedded_broker",
    "mqtt.password",
    "mqtt.password_file",
    "mqtt.password_credential",
    "mqtt.tls.ca_file",
    "mqtt.tls.cert_file",
    "mqtt.tls.key_file",
    "sampler.replay.signal",
    "sampler.mem_device",
    "sampler.dma_memory",
    "sampler.emulated.signal",
    "sampler.emulated.mem",
];

/// Largest step a patch's `_version` may take above the version in force: room for a backend
/// that numbers by timestamp in seconds (11 days) or skips versions, while a hostile patch
/// cannot push the version anywhere near `u64::MAX`.
pub const MAX_VERSION_STEP: u64 = 1_000_000;

/// What [`Config::redacted`] shows instead of a secret; never accepted as a new secret.
const REDACTED: &str = "***";

/// Reason given for the password keys.
const SECRET_REASON: &str = "local-only: the broker password is set on the device \
                             (mqtt.password_file or mqtt.password_credential) and never travels \
                             in a patch or is stored with the remote layer";

/// Reason given for a local-only key.
const LOCAL_REASON: &str = "local-only: it names this device or its files; change it in the \
                            config file on the device";

/// The config in force, its version, and the file config it was derived from.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteConfig {
    file: Config,
    config: Config,
    version: u64,
}

/// A patch that passed every check: the config to switch to.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The new config in force, validated.
    pub config: Config,
    /// Its version.
    pub version: u64,
    /// The patch's `_request`, to echo.
    pub request: Option<String>,
    /// What the agent must rebuild.
    pub changes: ChangeSet,
}

/// A refused patch: nothing changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The patch's `_request`, when it could be read.
    pub request: Option<String>,
    /// The refused key and why.
    pub error: FieldError,
}

/// What to do with one `config/set` message.
// One value per MQTT message, matched and consumed at once: boxing the config buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    /// Switch to the new config, then reply ok.
    Accepted(Accepted),
    /// Keep the config, reply with the error.
    Rejected(Rejected),
    /// A retained patch at or below the version in force: already applied, skip it silently.
    Stale {
        /// The patch's `_version`.
        version: u64,
    },
}

impl RemoteConfig {
    /// Starts from the file config, at version 0 (no remote change yet).
    pub fn new(file_config: Config) -> Self {
        RemoteConfig {
            config: file_config.clone(),
            file: file_config,
            version: 0,
        }
    }

    /// A state restored from disk: `config` must derive from `file` (see `persist::overlay`).
    pub(super) fn restore(file: Config, config: Config, version: u64) -> Self {
        RemoteConfig {
            file,
            config,
            version,
        }
    }

    /// The config in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The version of the config in force (0: the file config, untouched).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The config loaded from the file, under the remote changes.
    pub fn file_config(&self) -> &Config {
        &self.file
    }

    /// Checks a `config/set` payload against the config in force; changes nothing.
    pub fn apply(&self, payload: &[u8]) -> Result<Accepted, Rejected> {
        let Patch {
            body,
            request,
            version,
        } = read(payload).map_err(|error| Rejected {
            request: None,
            error,
        })?;
        let rejected = |error| Rejected {
            request: request.clone(),
            error,
        };
        let version = version.map_err(rejected)?;
        let version = self.next_version(version).map_err(rejected)?;
        let mut config = patch_config(&self.config, &Value::Object(body)).map_err(rejected)?;
        let changes = diff(&self.config, &config);
        // `meter.reset` is an action: it is in `changes`, never in the config in force.
        super::inputs::take_resets(&mut config.inputs);
        Ok(Accepted {
            config,
            version,
            request,
            changes,
        })
    }

    /// Handles one message on the device's own topic; `retained` is the MQTT retain flag of
    /// the delivery. See [`RemoteConfig::handle_on`].
    pub fn handle(&self, payload: &[u8], retained: bool) -> Handled {
        self.handle_on(payload, retained, false)
    }

    /// Handles one message; `retained` is the MQTT retain flag of the delivery, `group` whether
    /// it came on a group topic.
    ///
    /// A retained patch is redelivered on every (re)connect, so it must carry `_version`: at or
    /// below the version in force it was already applied and is skipped; without a version it
    /// could be re-applied over later patches, so it is refused. A patch on a group topic must
    /// carry `_version` too, retained or not: the broker clears the retain flag when it delivers
    /// a retained message live, so the devices online at publish time would apply a patch that
    /// those connecting later refuse, and the group would diverge.
    pub fn handle_on(&self, payload: &[u8], retained: bool, group: bool) -> Handled {
        if retained {
            if let Some(version) = stale_version(payload, self.version) {
                return Handled::Stale { version };
            }
        }
        if retained || group {
            if let Ok(Patch {
                request,
                version: Ok(None),
                ..
            }) = read(payload)
            {
                let reason = if group {
                    "a patch on a group topic must carry `_version`: a retained one reaches the \
                     devices online without its retain flag, so the rule must not depend on it"
                } else {
                    "a retained patch must carry `_version`, or every reconnect would apply it \
                     again"
                };
                return Handled::Rejected(Rejected {
                    request,
                    error: FieldError::new("_version", reason),
                });
            }
        }
        match self.apply(payload) {
            Ok(a) => Handled::Accepted(a),
            Err(r) => Handled::Rejected(r),
        }
    }

    /// Makes an accepted patch the config in force (call once the agent runs with it).
    pub fn commit(&mut self, accepted: &Accepted) {
        self.config = accepted.config.clone();
        self.version = accepted.version;
    }

    /// The retained `config` payload of the config in force (secrets redacted).
    pub fn effective_json(&self) -> Result<String, serde_json::Error> {
        effective_json(&self.config, self.version)
    }

    fn next_version(&self, explicit: Option<u64>) -> Result<u64, FieldError> {
        match explicit {
            Some(v) if v <= self.version => Err(FieldError::new(
                "_version",
                format!("stale: version {v} ≤ {} in force", self.version),
            )),
            Some(v) if v - self.version > MAX_VERSION_STEP => Err(FieldError::new(
                "_version",
                format!(
                    "{v} is more than {MAX_VERSION_STEP} above the version in force ({}); \
                     send at most {}",
                    self.version,
                    self.version.saturating_add(MAX_VERSION_STEP)
                ),
            )),
            Some(v) => Ok(v),
            None => self.version.checked_add(1).ok_or_else(|| {
                FieldError::new("_version", "the version in force is the largest u64")
            }),
        }
    }
}

/// A patch whose `inputs` is an object keyed by pin (`{"inputs":{"17":{"glitch_us":0}}}`)
/// rewritten to the whole-list form over `before`'s inputs: each entry is merged into the input
/// on that pin (added if there is none), `null` removes it, the other inputs stay as they are.
/// `None` when the patch has no such object (a list still replaces the whole set).
fn inputs_by_pin(patch: &Value, before: &Value) -> Result<Option<Value>, FieldError> {
    let Some(Value::Object(entries)) = patch.get("inputs") else {
        return Ok(None);
    };
    let mut inputs = match before.get("inputs") {
        Some(Value::Array(list)) => list.clone(),
        _ => Vec::new(),
    };
    for (key, change) in entries {
        let field = format!("inputs.{key}");
        let pin: u8 = key.parse().map_err(|_| {
            FieldError::new(&field, "inputs are addressed by their pin number (0-53)")
        })?;
        let at = inputs
            .iter()
            .position(|i| i.get("pin").and_then(Value::as_u64) == Some(u64::from(pin)));
        match (change, at) {
            (Value::Null, Some(at)) => {
                inputs.remove(at);
            }
            (Value::Null, None) => {} // already absent: a group patch may name pins some lack
            (Value::Object(fields), at) => {
                if fields
                    .get("pin")
                    .is_some_and(|p| p.as_u64() != Some(u64::from(pin)))
                {
                    return Err(FieldError::new(
                        format!("{field}.pin"),
                        "differs from the pin the entry is keyed by; remove the input and add it \
                         under its new pin",
                    ));
                }
                match at {
                    Some(at) => json_patch::merge(&mut inputs[at], change),
                    None => {
                        let mut input = serde_json::json!({ "pin": pin });
                        json_patch::merge(&mut input, change);
                        inputs.push(input);
                    }
                }
            }
            _ => {
                return Err(FieldError::new(
                    field,
                    "must be an object of the input's keys to change, or null to remove it",
                ))
            }
        }
    }
    let mut rewritten = patch.clone();
    if let Some(obj) = rewritten.as_object_mut() {
        obj.insert("inputs".into(), Value::Array(inputs));
    }
    Ok(Some(rewritten))
}

/// Applies a merge patch to `current` and checks the result like a config file.
pub(super) fn patch_config(current: &Config, patch: &Value) -> Result<Config, FieldError> {
    let before = serde_json::to_value(current).map_err(|e| {
        FieldError::new("", format!("the config in force cannot be serialized: {e}"))
    })?;
    let by_pin = inputs_by_pin(patch, &before)?;
    let patch = by_pin.as_ref().unwrap_or(patch);
    check_known(patch, &before, "")?;
    let mut merged = before.clone();
    json_patch::merge(&mut merged, patch);
    // The published config shows the password as `***`: sent back, it means "unchanged".
    if merged.pointer("/mqtt/password") == Some(&Value::from(REDACTED)) {
        if let (Some(slot), Some(kept)) = (
            merged.pointer_mut("/mqtt/password"),
            before.pointer("/mqtt/password"),
        ) {
            *slot = kept.clone();
        }
    }
    for key in LOCAL_ONLY {
        let pointer = format!("/{}", key.replace('.', "/"));
        // An unset optional key serializes as null and a null in a patch removes it: both unset.
        let value = |v: &Value| v.pointer(&pointer).filter(|x| !x.is_null()).cloned();
        if value(&before) != value(&merged) {
            let reason = if key.starts_with("mqtt.password") {
                SECRET_REASON
            } else {
                LOCAL_REASON
            };
            return Err(FieldError::new(*key, reason));
        }
    }
    let config = from_value(merged).map_err(first_error)?;
    config.validate().map_err(first_error)?;
    Ok(config)
}

/// Refuses keys that the config does not have, naming their full path. Done before merging so
/// the path is exact (`batch.max_edgez`, `inputs[1].glitch`).
fn check_known(patch: &Value, shape: &Value, at: &str) -> Result<(), FieldError> {
    let (Value::Object(patch), Value::Object(shape)) = (patch, shape) else {
        return Ok(());
    };
    for (key, value) in patch {
        let path = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        let Some(known) = shape.get(key) else {
            let keys: Vec<&str> = shape.keys().map(String::as_str).collect();
            return Err(FieldError::new(
                path,
                format!("unknown key; expected one of: {}", keys.join(", ")),
            ));
        };
        match (value, known) {
            (Value::Array(items), Value::Array(current)) => {
                // List items are all of one type: the first item in force gives their keys.
                if let Some(item_shape) = current.first() {
                    for (i, item) in items.iter().enumerate() {
                        check_known(item, item_shape, &format!("{path}[{i}]"))?;
                    }
                }
            }
            _ => check_known(value, known, &path)?,
        }
    }
    Ok(())
}

/// The first refusal of a config error: a result carries one field and one reason.
fn first_error(e: ConfigError) -> FieldError {
    match e {
        ConfigError::Invalid(errs) => errs
            .into_iter()
            .next()
            .unwrap_or_else(|| FieldError::new("", "invalid config")),
        ConfigError::Load(reason) => FieldError::new("", reason),
    }
}

/// The `config/result` reply to one patch.
pub fn result_json(result: &Result<Accepted, Rejected>) -> String {
    result_json_kept(result, None)
}

/// The `config/result` reply to one patch; `not_persisted` is why an accepted patch, in force
/// now, could not be written to `state_dir` (the reply then says `"persisted":false` and
/// why: a restart would go back to the previous config).
pub fn result_json_kept(
    result: &Result<Accepted, Rejected>,
    not_persisted: Option<&str>,
) -> String {
    #[derive(Serialize)]
    struct OkReply<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        request: Option<&'a str>,
        version: u64,
        ok: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        persisted: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        not_persisted: Option<&'a str>,
    }
    #[derive(Serialize)]
    struct ErrReply<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        request: Option<&'a str>,
        ok: bool,
        error: &'a FieldError,
    }
    let json = match result {
        Ok(a) => serde_json::to_string(&OkReply {
            request: a.request.as_deref(),
            version: a.version,
            ok: true,
            persisted: not_persisted.map(|_| false),
            not_persisted,
        }),
        Err(r) => serde_json::to_string(&ErrReply {
            request: r.request.as_deref(),
            ok: false,
            error: &r.error,
        }),
    };
    // Only strings, integers and booleans: serde_json cannot fail on these.
    json.unwrap_or_else(|e| format!(r#"{{"ok":false,"error":{{"field":"","reason":"{e}"}}}}"#))
}

/// The retained `config` payload: `{"version":N,"config":{...}}`, secrets redacted.
pub fn effective_json(config: &Config, version: u64) -> Result<String, serde_json::Error> {
    #[derive(Serialize)]
    struct Effective {
        version: u64,
        config: Config,
    }
    serde_json::to_string(&Effective {
        version,
        config: config.redacted(),
    })
}

#[cfg(test)]
#[path = "remote_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "remote_proptests.rs"]
mod proptests;
