use super::*;
use serde_json::Value;

/// A description of device `pi-01` watching 17 ("door", class door) and 18 (unnamed).
pub(crate) fn description() -> Description {
    Description {
        device: DeviceInfo::new("pi-01", "Raspberry Pi 4B", "dma", 42, 1_764_040_000_000_000),
        inventory: Inventory {
            config_version: 3,
            inputs: vec![
                InputInfo {
                    pin: 17,
                    name: "door".into(),
                    device_class: Some("door".into()),
                },
                InputInfo {
                    pin: 18,
                    name: String::new(),
                    device_class: None,
                },
            ],
            homeassistant: HomeAssistantConfig::default(),
            period_us: 5,
            stats_interval_s: 10,
            groups: vec!["lab".into()],
        },
    }
}

#[test]
fn info_carries_the_process_and_the_config_in_force() {
    let v: Value = serde_json::from_str(&info_payload(&description(), None)).unwrap();
    assert_eq!(
        v,
        json!({
            "v": 1, "device": "pi-01", "version": env!("CARGO_PKG_VERSION"),
            "board": "Raspberry Pi 4B", "backend": "dma", "pins": [17, 18],
            "inputs": [{"pin": 17, "name": "door", "device_class": "door"},
                       {"pin": 18, "name": ""}],
            "config_version": 3, "run": 42, "started_us": 1_764_040_000_000_000u64,
            "period_us": 5, "stats_interval_s": 10, "groups": ["lab"],
            "homeassistant": {"enabled": true, "prefix": "homeassistant"},
        })
    );
}

#[test]
fn inventory_lists_inputs_by_pin_whatever_their_order_in_the_config() {
    let text = r#"device_id = "d"
[sampler.replay]
signal = "/x.vcd"
[[inputs]]
pin = 27
name = "meter"
[[inputs]]
pin = 4
device_class = "window"
[stats]
interval_s = 30
"#;
    let cfg = crate::config::load_str(text, std::path::Path::new("/")).unwrap();
    let inv = Inventory::from_config(&cfg, 7);
    assert_eq!(
        inv.inputs.iter().map(|i| i.pin).collect::<Vec<_>>(),
        [4, 27]
    );
    assert_eq!(inv.inputs[0].device_class.as_deref(), Some("window"));
    assert_eq!(inv.inputs[1].name, "meter");
    assert_eq!((inv.config_version, inv.stats_interval_s), (7, 30));
}

#[test]
fn info_says_how_the_spool_is_when_the_link_knows() {
    use crate::stats::{SpoolHealth, SpoolState};
    let h = SpoolHealth {
        state: SpoolState::Off,
        reason: "cannot open: Permission denied".into(),
    };
    let v: Value = serde_json::from_str(&info_payload(&description(), Some(&h))).unwrap();
    assert_eq!(
        v["spool"],
        json!({"state": "off", "reason": "cannot open: Permission denied"})
    );
    let v: Value = serde_json::from_str(&info_payload(&description(), None)).unwrap();
    assert!(v.get("spool").is_none());
}
