use super::*;
use crate::config::{diff, load_str};
use std::path::Path;

fn config(sampler: &str, inputs: &str) -> Result<Config, String> {
    let text = format!("device_id = \"pi\"\n[sampler]\n{sampler}\n{inputs}");
    load_str(&text, Path::new("/etc/edgetap")).map_err(|e| e.to_string())
}

const TWO_INPUTS: &str = "[[inputs]]\npin = 17\nglitch_us = 500\nmax_edges_per_s = 100\n\
                          [[inputs]]\npin = 4\nmax_edges_per_s = 0\n";

#[test]
fn the_cdev_section_parses_with_its_defaults() {
    let c = config("backend = \"cdev\"", TWO_INPUTS).expect("valid");
    assert_eq!(c.sampler.cdev, crate::config::CdevConfig::default());
    assert_eq!(c.sampler.cdev.event_clock, EventClock::Monotonic);
    let c = config(
        "backend = \"cdev\"\n[sampler.cdev]\nchip = \"pinctrl-rp1\"\nevent_clock = \"realtime\"\n\
         kernel_debounce = true\nevent_buffer_size = 256",
        TWO_INPUTS,
    )
    .expect("valid");
    assert_eq!(c.sampler.cdev.chip.as_deref(), Some("pinctrl-rp1"));
    assert_eq!(c.sampler.cdev.event_clock, EventClock::Realtime);
    assert_eq!(c.sampler.cdev.event_buffer_size, Some(256));
}

#[test]
fn dma_period_rules_do_not_apply_to_cdev() {
    // 2 s is no DMA pacing period, but the character device has none.
    config(
        "backend = \"cdev\"\nperiod_us = 2000000\nbuffer_ms = 1",
        TWO_INPUTS,
    )
    .expect_err("period_us keeps its general range");
    config("backend = \"cdev\"\nbuffer_ms = 1", TWO_INPUTS).expect("buffer_ms is DMA's");
}

#[test]
fn nonsense_cdev_options_are_refused_by_name() {
    let e = config(
        "backend = \"cdev\"\n[sampler.cdev]\nevent_buffer_size = 2000",
        TWO_INPUTS,
    )
    .expect_err("above the kernel's limit");
    assert!(e.contains("sampler.cdev.event_buffer_size"), "{e}");
    let e = config(
        "backend = \"cdev\"\n[sampler.cdev]\nevent_buffer_size = 0",
        TWO_INPUTS,
    )
    .expect_err("zero");
    assert!(e.contains("sampler.cdev.event_buffer_size"), "{e}");
    let e = config(
        "backend = \"cdev\"\n[sampler.cdev]\nchip = \" \"",
        TWO_INPUTS,
    )
    .expect_err("empty chip");
    assert!(e.contains("sampler.cdev.chip"), "{e}");
    let e = config(
        "backend = \"cdev\"\n[sampler.cdev]\nevent_clock = \"tai\"",
        TWO_INPUTS,
    )
    .expect_err("no such clock");
    assert!(e.contains("event_clock"), "{e}");
    let e = config(
        "backend = \"cdev\"\n[sampler.cdev]\nbias = \"up\"",
        TWO_INPUTS,
    )
    .expect_err("unknown key");
    assert!(e.contains("bias"), "{e}");
}

#[test]
fn kernel_debounce_with_hardware_timestamps_is_refused() {
    let e = config(
        "backend = \"cdev\"\n[sampler.cdev]\nkernel_debounce = true\nevent_clock = \"hte\"",
        TWO_INPUTS,
    )
    .expect_err("software debounce has no hardware timestamps");
    assert!(e.contains("sampler.cdev.kernel_debounce"), "{e}");
    assert!(e.contains("pin 17"), "{e}");
    config(
        "backend = \"cdev\"\n[sampler.cdev]\nkernel_debounce = true\nevent_clock = \"hte\"",
        "[[inputs]]\npin = 4\n",
    )
    .expect("no input has a glitch time: nothing is debounced");
}

#[test]
fn line_specs_carry_the_glitch_time_only_when_the_kernel_debounces() {
    let c = config("backend = \"cdev\"", TWO_INPUTS).expect("valid");
    assert!(!c.kernel_debounces());
    assert_eq!(c.line_specs(), [LineSpec::plain(17), LineSpec::plain(4)]);
    assert_eq!(c.filter_inputs()[0].glitch_us, 500, "edgetap's filter runs");
    let c = config(
        "backend = \"cdev\"\n[sampler.cdev]\nkernel_debounce = true",
        TWO_INPUTS,
    )
    .expect("valid");
    assert!(c.kernel_debounces());
    assert_eq!(
        c.line_specs(),
        [
            LineSpec {
                debounce_us: 500,
                ..LineSpec::plain(17)
            },
            LineSpec::plain(4)
        ]
    );
    assert_eq!(c.filter_inputs()[0].glitch_us, 0, "not applied twice");
    assert_eq!(c.filter_inputs()[0].lockout_us, c.inputs[0].lockout_us);
    // Another backend ignores the cdev setting.
    let c = config(
        "backend = \"replay\"\n[sampler.replay]\nsignal = \"x.vcd\"\n[sampler.cdev]\nkernel_debounce = true",
        TWO_INPUTS,
    )
    .expect("valid");
    assert!(!c.kernel_debounces());
    assert_eq!(c.filter_inputs()[0].glitch_us, 500);
}

#[test]
fn the_summed_rate_limits_count_unlimited_as_the_maximum() {
    let c = config("backend = \"cdev\"", TWO_INPUTS).expect("valid");
    assert_eq!(c.max_edges_per_s(), 100 + 1_000_000);
}

#[test]
fn turning_kernel_debounce_on_refilters_the_pins_with_a_glitch_time() {
    let old = config("backend = \"cdev\"", TWO_INPUTS).expect("valid");
    let new = config(
        "backend = \"cdev\"\n[sampler.cdev]\nkernel_debounce = true",
        TWO_INPUTS,
    )
    .expect("valid");
    let c = diff(&old, &new);
    assert!(
        c.sampler_restart,
        "the request is made anew with the debounce"
    );
    assert_eq!(c.filters_changed, [17], "pin 4 has no glitch time");
    assert_eq!(diff(&new, &old).filters_changed, [17]);
}

#[test]
fn each_pull_becomes_the_line_s_bias_and_invert_stays_in_the_pipeline() {
    let inputs = "[[inputs]]\npin = 1\npull = \"up\"\ninvert = true\n\
                  [[inputs]]\npin = 2\npull = \"down\"\n\
                  [[inputs]]\npin = 3\npull = \"none\"\n\
                  [[inputs]]\npin = 4\n";
    let c = config("backend = \"cdev\"", inputs).expect("valid");
    let bias: Vec<_> = c.line_specs().iter().map(|l| l.bias).collect();
    assert_eq!(
        bias,
        [
            Some(LineBias::PullUp),
            Some(LineBias::PullDown),
            Some(LineBias::Disabled),
            None
        ]
    );
    assert!(
        c.line_specs().iter().all(|l| !l.active_low),
        "the kernel reports electrical levels; the pipeline inverts"
    );
}
