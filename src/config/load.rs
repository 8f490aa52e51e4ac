//! Layered loading: file, then `EDGETAP__SECTION__KEY` environment variables, then CLI overrides
//! (`key.path=value`). The file is read by the `config` crate; the other layers are typed by the
//! key they set ([`overrides`]); the result is deserialized through `serde_path_to_error` so a
//! type error names the full key (`inputs[1].pin`) and where a bad value came from.

use super::error::{ConfigError, FieldError};
use super::identity::{host_device_id, host_name, hostname_file, DeviceIdFrom};
use super::overrides::{self, Override};
use super::secrets::{resolve_password, PasswordFrom, CREDENTIALS_DIRECTORY};
use super::Config;
use std::path::Path;

/// A loaded config and where its derived values came from (for `config check`).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The config, validated, with the password read from its file or credential.
    pub config: Config,
    /// Where `device_id` came from.
    pub device_id_from: DeviceIdFrom,
    /// Where the password came from.
    pub password_from: PasswordFrom,
}

/// Where the base layer comes from.
#[derive(Debug, Clone, Copy)]
pub enum ConfigSource<'a> {
    /// A TOML file; relative paths inside it are resolved against its directory.
    File(&'a Path),
    /// TOML text; relative paths are resolved against `base_dir`.
    Text {
        /// The TOML document.
        toml: &'a str,
        /// Directory relative paths are resolved against.
        base_dir: &'a Path,
    },
}

/// Loads, merges, deserializes and validates the configuration.
///
/// `overrides` are `key.path=value` strings; each value is typed by the key it sets (text stays
/// text: `mqtt.password=0123` is the string `0123`; numbers, booleans, lists as JSON).
///
/// Without a `device_id`, the host name gives it ([`host_device_id`]); `mqtt.password_file`
/// and `mqtt.password_credential` (from `$CREDENTIALS_DIRECTORY`) are read into
/// `mqtt.password`.
pub fn load(source: ConfigSource<'_>, overrides: &[String]) -> Result<Config, ConfigError> {
    load_explained(source, overrides).map(|l| l.config)
}

/// [`load`], also saying where the device id and the password came from.
pub fn load_explained(
    source: ConfigSource<'_>,
    overrides: &[String],
) -> Result<Loaded, ConfigError> {
    load_with_env(source, overrides, true)
}

/// Loads from TOML text without reading the environment or the host name (for tests and
/// remote patches).
pub fn load_str(toml: &str, base_dir: &Path) -> Result<Config, ConfigError> {
    load_with_env(ConfigSource::Text { toml, base_dir }, &[], false).map(|l| l.config)
}

fn load_with_env(
    source: ConfigSource<'_>,
    overrides: &[String],
    with_env: bool,
) -> Result<Loaded, ConfigError> {
    use ::config::{File, FileFormat};
    let mut builder = ::config::Config::builder();
    let base_dir = match source {
        ConfigSource::File(path) => {
            if !path.is_file() {
                return Err(ConfigError::Load(format!(
                    "config file {} does not exist or is not a file",
                    path.display()
                )));
            }
            builder = builder.add_source(File::from(path).format(FileFormat::Toml));
            path.parent().unwrap_or(Path::new(".")).to_path_buf()
        }
        ConfigSource::Text { toml, base_dir } => {
            builder = builder.add_source(File::from_str(toml, FileFormat::Toml));
            base_dir.to_path_buf()
        }
    };
    let merged = builder
        .build()
        .map_err(|e| ConfigError::Load(e.to_string()))?;
    let mut tree: serde_json::Value = merged
        .try_deserialize()
        .map_err(|e| ConfigError::Load(e.to_string()))?;
    let mut layers = Vec::new();
    if with_env {
        let (found, strays) = overrides::from_env(
            // A variable that is not UTF-8 cannot be one of ours.
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        );
        for name in strays {
            tracing::warn!(
                variable = %name,
                "environment variable {name} matches no config key and is ignored \
                 (overrides are spelled EDGETAP__SECTION__KEY, with two underscores)"
            );
        }
        layers.extend(found);
    }
    for item in overrides {
        layers.push(overrides::from_set(item).ok_or_else(|| {
            ConfigError::Load(format!(
                "override `{item}` is not of the form key.path=value"
            ))
        })?);
    }
    let defaults = defaults_tree();
    for o in &layers {
        let probe = overrides::lookup(&tree, &o.key)
            .filter(|v| !v.is_null())
            .or_else(|| overrides::lookup(&defaults, &o.key));
        let value = overrides::typed(&o.key, &o.raw, probe);
        apply_override(&mut tree, &o.key, value)?;
    }
    let device_id_from = if with_env {
        default_device_id(&mut tree)?
    } else {
        DeviceIdFrom::Config
    };
    let mut config = from_value(tree).map_err(|e| annotate(e, &layers))?;
    resolve_paths(&mut config, &base_dir);
    config.validate().map_err(|e| annotate(e, &layers))?;
    let credentials = with_env
        .then(|| std::env::var_os(CREDENTIALS_DIRECTORY))
        .flatten()
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from);
    let password_from = resolve_password(&mut config.mqtt, credentials.as_deref())
        .map_err(|e| annotate(ConfigError::Invalid(vec![e]), &layers))?;
    let mut file_only = super::error::Refusals::default();
    super::inputs::validate_file(&config.inputs, &mut file_only);
    file_only.into_result().map_err(|e| annotate(e, &layers))?;
    if with_env {
        warn_off_header(&config);
    }
    Ok(Loaded {
        config,
        device_id_from,
        password_from,
    })
}

/// Puts the id derived from the host name into a tree without `device_id`.
fn default_device_id(tree: &mut serde_json::Value) -> Result<DeviceIdFrom, ConfigError> {
    if tree.get("device_id").is_some_and(|v| !v.is_null()) {
        return Ok(DeviceIdFrom::Config);
    }
    let refuse = |reason: String| {
        ConfigError::Invalid(vec![FieldError::new(
            "device_id",
            format!("not set, and {reason}; set device_id"),
        )])
    };
    let host = host_name(hostname_file())
        .map_err(|e| refuse(format!("the host name cannot be read ({e})")))?;
    let id = host_device_id(&host)
        .ok_or_else(|| refuse(format!("the host name `{host}` gives no id")))?;
    if let Some(obj) = tree.as_object_mut() {
        obj.insert("device_id".into(), serde_json::Value::String(id));
    }
    Ok(DeviceIdFrom::HostName(host))
}

/// Highest GPIO on the 40-pin header of every Pi since the B+ (GPIO 0–27).
const HEADER_MAX_PIN: u8 = 27;

/// A pin above GPIO 27 exists on the chip but is not on the 40-pin header (only a Compute
/// Module brings it out): most likely a typo, so it is said, not refused.
fn warn_off_header(config: &Config) {
    for (i, input) in config.inputs.iter().enumerate() {
        if input.pin > HEADER_MAX_PIN {
            tracing::warn!(
                "inputs[{i}].pin: GPIO {} is not on the 40-pin header (GPIO 0-{HEADER_MAX_PIN}); \
                 only a Compute Module brings it out",
                input.pin
            );
        }
    }
}

/// Every key with its default value (`null` for optional ones), to type overrides by.
fn defaults_tree() -> serde_json::Value {
    from_value(serde_json::json!({ "device_id": "" }))
        .ok()
        .and_then(|c| serde_json::to_value(c).ok())
        .unwrap_or_default()
}

/// Names the environment variable or `--set` a refused value came from, and hides the value
/// of a secret.
fn annotate(err: ConfigError, layers: &[Override]) -> ConfigError {
    let ConfigError::Invalid(fields) = err else {
        return err;
    };
    let fields = fields
        .into_iter()
        .map(|mut f| {
            let covers = |key: &str| {
                f.field == key
                    || f.field.starts_with(&format!("{key}."))
                    || f.field.starts_with(&format!("{key}["))
            };
            if overrides::SECRET_KEYS.iter().any(|k| covers(k)) {
                f.reason = "refused (the value is a secret and not shown)".into();
            }
            if let Some(o) = layers.iter().rev().find(|o| covers(&o.key)) {
                f.reason = format!("{} (from {})", f.reason, o.origin);
            }
            f
        })
        .collect();
    ConfigError::Invalid(fields)
}

/// Deserializes a JSON tree into a [`Config`], naming the key of the first type error.
pub fn from_value(tree: serde_json::Value) -> Result<Config, ConfigError> {
    serde_path_to_error::deserialize(tree).map_err(|e| {
        let field = e.path().to_string();
        ConfigError::Invalid(vec![FieldError::new(
            if field == "." { String::new() } else { field },
            overrides::plain_types(&e.into_inner().to_string()),
        )])
    })
}

fn apply_override(
    tree: &mut serde_json::Value,
    key: &str,
    value: serde_json::Value,
) -> Result<(), ConfigError> {
    let mut node = tree;
    let parts: Vec<&str> = key.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            return Err(ConfigError::Load(format!(
                "override key `{key}` has an empty part"
            )));
        }
        if !node.is_object() {
            *node = serde_json::Value::Object(Default::default());
        }
        let obj = node
            .as_object_mut()
            .ok_or_else(|| ConfigError::Load(format!("override key `{key}` is not a table")))?;
        if i + 1 == parts.len() {
            obj.insert((*part).to_string(), value);
            return Ok(());
        }
        node = obj
            .entry((*part).to_string())
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
    }
    Ok(())
}

/// Makes the file paths of the config absolute against the config file's directory, so the
/// agent's working directory never changes their meaning.
fn resolve_paths(config: &mut Config, base_dir: &Path) {
    let s = &mut config.sampler;
    let m = &mut config.mqtt;
    let optional = s
        .emulated
        .mem
        .iter_mut()
        .chain(m.password_file.iter_mut())
        .chain(m.tls.paths_mut().into_iter().flat_map(|p| p.iter_mut()));
    let paths = [
        &mut s.replay.signal,
        &mut s.emulated.signal,
        &mut config.state_dir,
    ];
    for path in paths.into_iter().chain(optional) {
        if !path.as_os_str().is_empty() && path.is_relative() {
            *path = base_dir.join(&*path);
        }
    }
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
