//! Layered loading: file, then `EDGETAP__SECTION__KEY` environment variables, then CLI overrides
//! (`key.path=value`). Layers are merged by the `config` crate, then deserialized through
//! `serde_path_to_error` so a type error names the full key (`inputs[1].pin`).

use super::error::{ConfigError, FieldError};
use super::Config;
use std::path::Path;

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

/// Environment variable prefix: `EDGETAP__MQTT__PORT=1884` sets `mqtt.port`.
pub const ENV_PREFIX: &str = "EDGETAP";

/// Loads, merges, deserializes and validates the configuration.
///
/// `overrides` are `key.path=value` strings; values are read as JSON when they parse
/// (`10`, `true`, `[1,2]`) and as plain strings otherwise.
pub fn load(source: ConfigSource<'_>, overrides: &[String]) -> Result<Config, ConfigError> {
    load_with_env(source, overrides, true)
}

/// Loads from TOML text without reading the environment (for tests and remote patches).
pub fn load_str(toml: &str, base_dir: &Path) -> Result<Config, ConfigError> {
    load_with_env(ConfigSource::Text { toml, base_dir }, &[], false)
}

fn load_with_env(
    source: ConfigSource<'_>,
    overrides: &[String],
    with_env: bool,
) -> Result<Config, ConfigError> {
    use ::config::{Environment, File, FileFormat};
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
    if with_env {
        builder = builder.add_source(
            Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
    }
    let merged = builder
        .build()
        .map_err(|e| ConfigError::Load(e.to_string()))?;
    let mut tree: serde_json::Value = merged
        .try_deserialize()
        .map_err(|e| ConfigError::Load(e.to_string()))?;
    for o in overrides {
        apply_override(&mut tree, o)?;
    }
    let mut config = from_value(tree)?;
    resolve_paths(&mut config, &base_dir);
    config.validate()?;
    Ok(config)
}

/// Deserializes a JSON tree into a [`Config`], naming the key of the first type error.
pub fn from_value(tree: serde_json::Value) -> Result<Config, ConfigError> {
    serde_path_to_error::deserialize(tree).map_err(|e| {
        let field = e.path().to_string();
        ConfigError::Invalid(vec![FieldError::new(
            if field == "." { String::new() } else { field },
            e.into_inner().to_string(),
        )])
    })
}

fn apply_override(tree: &mut serde_json::Value, item: &str) -> Result<(), ConfigError> {
    let (key, raw) = item.split_once('=').ok_or_else(|| {
        ConfigError::Load(format!(
            "override `{item}` is not of the form key.path=value"
        ))
    })?;
    let value = serde_json::from_str(raw).unwrap_or_else(|_| serde_json::Value::String(raw.into()));
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
    let emulated_mem = s.emulated.mem.iter_mut();
    let paths = [
        &mut s.replay.signal,
        &mut s.emulated.signal,
        &mut config.state_dir,
    ];
    for path in paths.into_iter().chain(emulated_mem) {
        if !path.as_os_str().is_empty() && path.is_relative() {
            *path = base_dir.join(&*path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
device_id = "pi-01"
[sampler.replay]
signal = "signals/demo.vcd"
[[inputs]]
pin = 17
"#;

    #[test]
    fn minimal_config_gets_defaults_and_resolved_paths() {
        let c = load_str(MINIMAL, Path::new("/etc/edgetap")).unwrap();
        assert_eq!(c.device_id, "pi-01");
        assert_eq!(c.sampler.period_us, 5);
        assert_eq!(c.batch.max_edges, 512);
        assert_eq!(c.mqtt.port, 1883);
        assert_eq!(
            c.sampler.replay.signal,
            Path::new("/etc/edgetap/signals/demo.vcd")
        );
        assert_eq!(c.state_dir, Path::new("/var/lib/edgetap"));
        assert!(c.groups.is_empty());
        assert_eq!(c.mqtt.rollback_after_s, 60);
        let rel = load_str(
            &format!("state_dir = \"state\"\n{MINIMAL}"),
            Path::new("/etc/e"),
        )
        .unwrap();
        assert_eq!(rel.state_dir, Path::new("/etc/e/state"));
    }

    #[test]
    fn unknown_key_is_named() {
        let text = format!("{MINIMAL}\n[batch]\nmax_edgez = 3\n");
        let err = load_str(&text, Path::new(".")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("batch") && msg.contains("max_edgez"), "{msg}");
    }

    #[test]
    fn wrong_type_names_the_indexed_field() {
        let text = MINIMAL.replace("pin = 17", "pin = \"seventeen\"");
        let err = load_str(&text, Path::new(".")).unwrap_err();
        assert!(err.to_string().contains("inputs[0].pin"), "{err}");
    }

    #[test]
    fn toml_syntax_error_is_a_load_error() {
        let err = load_str("device_id = ", Path::new(".")).unwrap_err();
        assert!(matches!(err, ConfigError::Load(_)), "{err}");
    }

    #[test]
    fn overrides_parse_json_values_and_fall_back_to_strings() {
        let mut tree = serde_json::json!({"mqtt": {"port": 1}});
        apply_override(&mut tree, "mqtt.port=1884").unwrap();
        apply_override(&mut tree, "mqtt.host=broker.local").unwrap();
        apply_override(&mut tree, "batch.max_edges=7").unwrap();
        assert_eq!(tree["mqtt"]["port"], 1884);
        assert_eq!(tree["mqtt"]["host"], "broker.local");
        assert_eq!(tree["batch"]["max_edges"], 7);
        assert!(apply_override(&mut tree, "novalue").is_err());
        assert!(apply_override(&mut tree, "a..b=1").is_err());
    }

    #[test]
    fn missing_file_is_reported_with_its_path() {
        let err = load(ConfigSource::File(Path::new("/nonexistent/x.toml")), &[]).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.toml"));
    }
}
