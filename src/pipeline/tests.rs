//! Tests of the pipeline: decode, filter, gaps, live reconfiguration, rate-limit counts.

use super::*;
use crate::block::LevelWords;

fn input(pin: u8, glitch_us: u64) -> InputConfig {
    InputConfig {
        pin,
        name: String::new(),
        glitch_us,
        lockout_us: 0,
        noise_steady_us: 0,
        noise_active_us: 0,
        max_edges_per_s: 0,
        device_class: None,
        pull: Default::default(),
        invert: false,
    }
}

fn block(t0_us: u64, levels: &[u32], lost_before: u64) -> Block {
    Block {
        t0_us,
        period_us: 1,
        words: LevelWords::One,
        levels: levels.to_vec(),
        lost_before,
    }
}

#[test]
fn first_sample_is_state_and_later_samples_of_the_first_block_are_edges() {
    let mut p = Pipeline::new(&[input(2, 0)]);
    let mut out = Vec::new();
    let ev = p.process(&block(100, &[0, 0, 4, 4, 0], 0), &mut out);
    assert_eq!(ev.initial, Some(vec![PinLevel { pin: 2, level: 0 }]));
    assert_eq!(
        out,
        vec![
            Edge {
                pin: 2,
                level: 1,
                t_us: 102,
                after_gap: false
            },
            Edge {
                pin: 2,
                level: 0,
                t_us: 104,
                after_gap: false
            },
        ]
    );
    out.clear();
    let ev = p.process(&block(105, &[4], 0), &mut out);
    assert_eq!(ev, BlockEvents::default());
    assert_eq!(
        out,
        vec![Edge {
            pin: 2,
            level: 1,
            t_us: 105,
            after_gap: false
        }]
    );
}

#[test]
fn lost_samples_become_a_gap_and_the_change_shows_after_it() {
    let mut p = Pipeline::new(&[input(0, 0)]);
    let mut out = Vec::new();
    p.process(&block(0, &[0, 0], 0), &mut out);
    let ev = p.process(&block(10, &[1, 1], 8), &mut out);
    assert_eq!(
        ev.gap,
        Some(Gap {
            from_us: 1,
            to_us: 10,
            samples: 8
        })
    );
    assert_eq!(
        out,
        vec![Edge {
            pin: 0,
            level: 1,
            t_us: 10,
            after_gap: true
        }]
    );
}

#[test]
fn reconfigure_rebuilds_only_the_named_pins() {
    let mut p = Pipeline::new(&[input(0, 0), input(1, 0)]);
    let mut out = Vec::new();
    p.process(&block(0, &[0, 1, 1], 0), &mut out);
    assert_eq!(out.len(), 1);
    out.clear();
    // Pin 1 gets a glitch filter, pin 2 is added (raw level 0), pin 0 is untouched.
    let new = [input(0, 0), input(1, 5), input(2, 0)];
    let changes = crate::config::ChangeSet {
        pins_added: vec![2],
        filters_changed: vec![1],
        ..Default::default()
    };
    let added = p.reconfigure(&new, &changes, &mut out);
    assert_eq!(added, vec![PinLevel { pin: 2, level: 0 }]);
    assert!(out.is_empty());
    p.process(&block(3, &[0, 7, 7], 0), &mut out);
    // Pin 0 falls at once; pin 1 rises but its 5 µs glitch filter holds it; pin 2 rises.
    assert_eq!(
        out,
        vec![
            Edge {
                pin: 0,
                level: 0,
                t_us: 3,
                after_gap: false
            },
            Edge {
                pin: 0,
                level: 1,
                t_us: 4,
                after_gap: false
            },
            Edge {
                pin: 2,
                level: 1,
                t_us: 4,
                after_gap: false
            },
        ]
    );
    // Removing pin 0: its edges stop, the others go on.
    out.clear();
    let changes = crate::config::ChangeSet {
        pins_removed: vec![0],
        ..Default::default()
    };
    p.reconfigure(&new[1..], &changes, &mut out);
    p.process(&block(6, &[0], 0), &mut out);
    assert_eq!(
        out,
        vec![Edge {
            pin: 2,
            level: 0,
            t_us: 6,
            after_gap: false
        }]
    );
}

#[test]
fn rate_limits_are_counted_per_block_and_rebuilt_alone() {
    // Pin 0: one edge per second at most; pin 1: a 3 µs glitch filter, no limit.
    let limited = |pin, max| InputConfig {
        max_edges_per_s: max,
        ..input(pin, 0)
    };
    let inputs = [limited(0, 1), input(1, 3)];
    let mut p = Pipeline::new(&inputs);
    let mut out = Vec::new();
    let e = |pin, level, t_us| Edge {
        pin,
        level,
        t_us,
        after_gap: false,
    };
    // Pin 0: 1@1 passes, 0@2 and 1@3 are dropped; pin 1 rises at 4 (pending until 7).
    p.process(&block(0, &[0, 1, 0, 1, 3], 0), &mut out);
    assert_eq!(out, vec![e(0, 1, 1)]);
    assert_eq!(p.rate_limited(), &[RateLimited { pin: 0, edges: 2 }]);
    // Pin 0 falls at 5: held back, no token for a second.
    out.clear();
    p.process(&block(5, &[2, 2], 0), &mut out);
    assert!(out.is_empty());
    assert!(p.rate_limited().is_empty(), "counts are per block");

    // A new limit on pin 0 only: its held level is reported; pin 1 keeps its pending rise.
    let new = [limited(0, 1000), input(1, 3)];
    let changes = crate::config::ChangeSet {
        limits_changed: vec![0],
        ..Default::default()
    };
    assert!(p.reconfigure(&new, &changes, &mut out).is_empty());
    assert_eq!(out, vec![e(0, 0, 6)]);
    out.clear();
    p.process(&block(7, &[2, 3, 2, 3], 0), &mut out);
    assert_eq!(out, vec![e(0, 1, 8), e(0, 0, 9), e(0, 1, 10), e(1, 1, 4)]);
    assert!(p.rate_limited().is_empty());

    // A pin whose filter and limit both change is rebuilt whole, once.
    let new = [limited(0, 1), input(1, 0)];
    let changes = crate::config::ChangeSet {
        filters_changed: vec![0, 1],
        limits_changed: vec![0],
        ..Default::default()
    };
    out.clear();
    p.reconfigure(&new, &changes, &mut out);
    assert!(out.is_empty());
    // A fresh one-edge bucket: 0@11 passes, 1@12 and 0@13 are dropped.
    p.process(&block(11, &[2, 3, 2], 0), &mut out);
    assert_eq!(out, vec![e(0, 0, 11)]);
    assert_eq!(p.rate_limited(), &[RateLimited { pin: 0, edges: 2 }]);
}

#[test]
fn a_restart_is_reported_as_a_gap() {
    let mut p = Pipeline::new(&[input(0, 0)]);
    let mut out = Vec::new();
    p.process(&block(0, &[0, 0], 0), &mut out);
    p.mark_restart();
    let ev = p.process(&block(2, &[0], 0), &mut out);
    assert_eq!(
        ev.gap,
        Some(Gap {
            from_us: 1,
            to_us: 2,
            samples: 0
        })
    );
    let ev = p.process(&block(3, &[0], 0), &mut out);
    assert_eq!(ev.gap, None);
}

#[test]
fn filters_are_advanced_to_the_end_of_each_block() {
    // A glitch filter of 3 µs confirms a change once 3 µs of samples have been seen.
    let mut p = Pipeline::new(&[input(1, 3)]);
    let mut out = Vec::new();
    p.process(&block(0, &[0, 2, 2], 0), &mut out);
    assert!(out.is_empty(), "not yet stable for 3 µs: {out:?}");
    p.process(&block(3, &[2, 2], 0), &mut out);
    assert_eq!(
        out,
        vec![Edge {
            pin: 1,
            level: 1,
            t_us: 1,
            after_gap: false
        }]
    );
    assert_eq!(p.last_sample_us(), Some(4));
}

#[test]
fn a_pin_above_31_added_to_one_word_samples_starts_at_its_level_in_the_next_block() {
    let mut p = Pipeline::new(&[input(2, 0)]);
    let mut out = Vec::new();
    p.process(&block(100, &[0, 0], 0), &mut out);
    let changes = crate::config::ChangeSet {
        pins_added: vec![40],
        ..Default::default()
    };
    // Its word was not sampled: no level is made up for it now.
    let added = p.reconfigure(&[input(2, 0), input(40, 0)], &changes, &mut out);
    assert_eq!(added, vec![]);
    assert!(out.is_empty());
    // The restarted sampler reads two words; GPIO 40 (bit 8 of word 1) is high from the start.
    let two_words = Block {
        t0_us: 200,
        period_us: 1,
        words: LevelWords::Two,
        levels: vec![0, 1 << 8, 0, 1 << 8, 0, 0],
        lost_before: 0,
    };
    let ev = p.process(&two_words, &mut out);
    assert_eq!(ev.initial, Some(vec![PinLevel { pin: 40, level: 1 }]));
    assert_eq!(
        out,
        vec![Edge {
            pin: 40,
            level: 0,
            t_us: 202,
            after_gap: false
        }],
        "high from the start is state; only the fall is an edge"
    );
}

fn inverted(pin: u8, glitch_us: u64) -> InputConfig {
    InputConfig {
        invert: true,
        ..input(pin, glitch_us)
    }
}

#[test]
fn an_inverted_pin_reports_logical_levels_through_its_filter() {
    // Pin 0 electrical: low, a 2 µs high glitch at 2, high from 10: a 3 µs glitch filter.
    let levels = [0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
    let mut plain = Pipeline::new(&[input(0, 3)]);
    let mut inv = Pipeline::new(&[inverted(0, 3)]);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let ea = plain.process(&block(0, &levels, 0), &mut a);
    let eb = inv.process(&block(0, &levels, 0), &mut b);
    assert_eq!(ea.initial, Some(vec![PinLevel { pin: 0, level: 0 }]));
    assert_eq!(eb.initial, Some(vec![PinLevel { pin: 0, level: 1 }]));
    // Same edges at the same times (the glitch filtered in both), levels inverted.
    assert_eq!(a.len(), 1);
    assert_eq!(
        b,
        a.iter()
            .map(|e| Edge {
                level: 1 - e.level,
                ..*e
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(b[0].level, 0);
}

#[test]
fn turning_invert_on_live_reports_the_flipped_level_at_once() {
    let mut p = Pipeline::new(&[input(0, 0), input(1, 0)]);
    let mut out = Vec::new();
    p.process(&block(0, &[0, 0, 0], 0), &mut out);
    assert!(out.is_empty());
    let new = [inverted(0, 0), input(1, 0)];
    let changes = crate::config::ChangeSet {
        filters_changed: vec![0],
        ..Default::default()
    };
    let added = p.reconfigure(&new, &changes, &mut out);
    assert!(added.is_empty());
    // Pin 0 is still low on the wire: logically high from the change on.
    assert_eq!(
        out,
        vec![Edge {
            pin: 0,
            level: 1,
            t_us: 2,
            after_gap: false
        }]
    );
    out.clear();
    // The wire rises: logically a fall; pin 1 untouched.
    p.process(&block(3, &[1, 3], 0), &mut out);
    assert_eq!(
        out,
        vec![
            Edge {
                pin: 0,
                level: 0,
                t_us: 3,
                after_gap: false
            },
            Edge {
                pin: 1,
                level: 1,
                t_us: 4,
                after_gap: false
            },
        ]
    );
}

#[test]
fn an_invert_change_refilters_even_when_the_caller_did_not_say_so() {
    let mut p = Pipeline::new(&[input(0, 0)]);
    let mut out = Vec::new();
    p.process(&block(0, &[1, 1], 0), &mut out);
    p.reconfigure(
        &[inverted(0, 0)],
        &crate::config::ChangeSet::default(),
        &mut out,
    );
    assert_eq!(
        out,
        vec![Edge {
            pin: 0,
            level: 0,
            t_us: 1,
            after_gap: false
        }]
    );
}

#[test]
fn an_inverted_pin_added_live_starts_at_its_logical_level() {
    let mut p = Pipeline::new(&[input(0, 0)]);
    let mut out = Vec::new();
    p.process(&block(0, &[0, 0], 0), &mut out);
    let changes = crate::config::ChangeSet {
        pins_added: vec![1],
        ..Default::default()
    };
    let added = p.reconfigure(&[input(0, 0), inverted(1, 0)], &changes, &mut out);
    assert_eq!(added, vec![PinLevel { pin: 1, level: 1 }]);
    assert!(out.is_empty());
    p.process(&block(2, &[2], 0), &mut out);
    assert_eq!(
        out,
        vec![Edge {
            pin: 1,
            level: 0,
            t_us: 2,
            after_gap: false
        }]
    );
}
