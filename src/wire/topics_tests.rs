use super::*;

#[test]
fn layout_matches_design() {
    let t = Topics::new("edgetap", "pi-01");
    assert_eq!(t.status(), "edgetap/pi-01/status");
    assert_eq!(t.edges(), "edgetap/pi-01/edges");
    assert_eq!(t.gpio(17), "edgetap/pi-01/gpio/17");
    assert_eq!(t.info(), "edgetap/pi-01/info");
    assert_eq!(t.stats(), "edgetap/pi-01/stats");
    assert_eq!(t.config(), "edgetap/pi-01/config");
    assert_eq!(t.all(), "edgetap/pi-01/#");
    assert_eq!(t.config_set(), "edgetap/pi-01/config/set");
    assert_eq!(t.config_result(), "edgetap/pi-01/config/result");
    assert_eq!(t.group_config_set("lab"), "edgetap/group/lab/config/set");
}

#[test]
fn topic_names_are_held_to_the_mqtt_rules() {
    assert_eq!(topic_name_problem("edgetap/pi-01/status"), None);
    assert_eq!(topic_name_problem(&"a".repeat(MAX_TOPIC_BYTES)), None);
    for bad in ["", "edgetap/#", "a/+/b", "a\0b", "a\u{1}"] {
        assert!(topic_name_problem(bad).is_some(), "{bad:?}");
    }
    assert!(topic_name_problem(&"a".repeat(MAX_TOPIC_BYTES + 1)).is_some());
}
