use super::*;
use crate::stats::{SpoolHealth, SpoolState};
use serde_json::Value;

fn counters() -> (Snapshot, Snapshot) {
    let mut before = Snapshot {
        samples: 1_000_000,
        ..Snapshot::default()
    };
    before.edges_per_pin[17] = 5;
    before.edges_per_pin[18] = 40_000;
    let mut after = before.clone();
    after.samples += 2_000_000;
    after.edges_per_pin[17] += 10;
    after.edges_per_pin[18] += 20_000;
    after.edges_per_pin[4] = 1; // not watched (any more): still reported, it had edges
    after.batches_sent = 1043;
    after.batches_spooled = 7;
    after.batches_replayed = 6;
    after.batches_dropped = 2;
    after.spool_dropped = 3;
    after.spool_errors = 4;
    after.rate_limited = 12_345;
    after.rate_limited_per_pin[18] = 12_000;
    after.rate_limited_per_pin[4] = 345;
    after.overruns = 5;
    after.samples_lost = 600;
    after.edges_lost = 7;
    after.dma_restarts = 1;
    after.dma_stalls = 2;
    after.connects = 3;
    after.connection_errors = 9;
    after.connect_failures_tls = 4;
    after.connect_failures_auth = 3;
    after.spool_bytes = 4096;
    after.spool_pending = 1;
    after.spool_torn = 2;
    after.spool_state = SpoolHealth {
        state: SpoolState::Degraded,
        reason: "cannot open: disk full".into(),
    };
    (before, after)
}

fn report<'a>(before: &'a Snapshot, after: &'a Snapshot) -> StatsReport<'a> {
    StatsReport {
        device: "pi-01",
        run: 123,
        t_us: 1_764_040_000_123_456,
        uptime: Duration::from_millis(3_600_900),
        before,
        after,
        elapsed: Duration::from_millis(10_000),
        pins: &[17, 18, 27],
        latency_ms: Some((3.1, 7.9)),
        cpu_percent: Some(1.4),
        rss_bytes: Some(8_912_896),
    }
}

#[test]
fn payload_is_exactly_the_contract() {
    let (before, after) = counters();
    let json = stats_json(&report(&before, &after));
    assert_eq!(
        json,
        concat!(
            r#"{"v":1,"device":"pi-01","run":123,"t_us":1764040000123456,"interval_s":10.0,"#,
            r#""uptime_s":3600,"samples_per_s":200000.0,"edges_per_s":2001.1,"#,
            r#""edges_per_s_by_pin":{"4":0.1,"17":1.0,"18":2000.0,"27":0.0},"#,
            r#""batches_sent":1043,"batches_spooled":7,"batches_replayed":6,"#,
            r#""dropped_queue_full":2,"dropped_spool_full":3,"dropped_spool_error":4,"#,
            r#""rate_limited":12345,"rate_limited_by_pin":{"4":345,"18":12000},"overruns":5,"samples_lost":600,"edges_lost":7,"dma_restarts":1,"dma_stalls":2,"dma_late_blocks":0,"#,
            r#""connects":3,"reconnects":2,"connection_errors":9,"#,
            r#""connect_failures_tls":4,"connect_failures_auth":3,"#,
            r#""spool_bytes":4096,"spool_pending":1,"spool_torn":2,"#,
            r#""spool_state":"degraded","spool_state_reason":"cannot open: disk full","#,
            r#""patches_not_persisted":0,"patches_oversize":0,"takeovers_suspected":0,"#,
            r#""rejected_by_broker":{"not_authorized":0,"other":0,"packet_too_large":0,"#,
            r#""payload_format_invalid":0,"quota_exceeded":0,"topic_name_invalid":0},"#,
            r#""publish_latency_ms_p50":3.1,"publish_latency_ms_p99":7.9,"#,
            r#""cpu_percent":1.4,"rss_bytes":8912896}"#
        )
    );
    let v: Value = serde_json::from_str(&json).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = STATS_KEYS.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want, "serde_json sorts keys when parsing");
}

#[test]
fn rates_use_the_elapsed_time_not_the_nominal_interval() {
    let (before, after) = counters();
    let late = StatsReport {
        elapsed: Duration::from_millis(12_500),
        ..report(&before, &after)
    };
    let v: Value = serde_json::from_str(&stats_json(&late)).unwrap();
    assert_eq!(v["interval_s"], 12.5);
    assert_eq!(v["samples_per_s"], 160_000.0);
    assert_eq!(v["edges_per_s_by_pin"]["18"], 1600.0);
    assert_eq!(v["edges_per_s_by_pin"]["17"], 0.8);
}

#[test]
fn nothing_acknowledged_or_no_proc_gives_nulls_and_first_connect_is_no_reconnect() {
    let (before, mut after) = counters();
    after.connects = 1;
    let r = StatsReport {
        latency_ms: None,
        cpu_percent: None,
        rss_bytes: None,
        ..report(&before, &after)
    };
    let v: Value = serde_json::from_str(&stats_json(&r)).unwrap();
    for key in [
        "publish_latency_ms_p50",
        "publish_latency_ms_p99",
        "cpu_percent",
        "rss_bytes",
    ] {
        assert!(v[key].is_null(), "{key}: {v}");
    }
    assert_eq!(v["reconnects"], 0);
    after.connects = 0;
    let v: Value = serde_json::from_str(&stats_json(&report(&before, &after))).unwrap();
    assert_eq!(v["reconnects"], 0, "never below 0 before the first connect");
}

#[test]
fn no_elapsed_time_gives_zero_rates_not_infinities() {
    let (before, after) = counters();
    let r = StatsReport {
        elapsed: Duration::ZERO,
        latency_ms: Some((f64::NAN, f64::INFINITY)),
        ..report(&before, &after)
    };
    let v: Value = serde_json::from_str(&stats_json(&r)).unwrap();
    assert_eq!(v["samples_per_s"], 0.0);
    assert_eq!(v["edges_per_s_by_pin"]["18"], 0.0);
    assert!(v["publish_latency_ms_p50"].is_null());
}
