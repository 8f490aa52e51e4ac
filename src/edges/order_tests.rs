use super::*;
use crate::config::InputConfig;
use crate::pipeline::Pipeline;
use crate::sampler::{Block, LevelWords};

fn edge(pin: u8, t_us: u64) -> Edge {
    Edge {
        pin,
        level: 1,
        t_us,
        after_gap: false,
    }
}

fn collect(o: &mut TimeOrder, processed_us: u64) -> Vec<(u8, u64)> {
    let mut out = Vec::new();
    o.release(processed_us, &mut |e| out.push((e.pin, e.t_us)));
    out
}

#[test]
fn edges_are_released_in_time_order_once_older_than_the_bound() {
    let mut o = TimeOrder::new(1000);
    o.push(edge(18, 1500));
    o.push(edge(18, 2000));
    // The glitch filter releases 17's edge late, with its original time.
    o.push(edge(17, 1200));
    assert_eq!(collect(&mut o, 2201), vec![(17, 1200)]);
    assert_eq!(collect(&mut o, 3001), vec![(18, 1500), (18, 2000)]);
    assert_eq!(o.held(), 0);
}

#[test]
fn equal_times_keep_their_arrival_order_and_drain_releases_all() {
    let mut o = TimeOrder::new(10);
    o.push(edge(4, 100));
    o.push(edge(5, 100));
    o.push(edge(3, 50));
    let mut out = Vec::new();
    o.drain(&mut |e| out.push(e.pin));
    assert_eq!(out, vec![3, 4, 5]);
}

#[test]
fn the_output_never_goes_back_in_time() {
    let mut o = TimeOrder::new(0);
    o.push(edge(1, 500));
    assert_eq!(collect(&mut o, 600), vec![(1, 500)]);
    o.push(edge(2, 400));
    assert_eq!(collect(&mut o, 700), vec![(2, 500)]);
}

#[test]
fn the_bound_only_grows() {
    let mut o = TimeOrder::new(TimeOrder::bound_for([0, 300, 100]));
    o.raise_bound(50);
    o.push(edge(1, 100));
    assert!(collect(&mut o, 400).is_empty());
    assert_eq!(collect(&mut o, 401), vec![(1, 100)]);
}

/// The pipeline with glitch, lockout and noise filters on pins toggling at different paces:
/// every edge it reports after processing up to `L` is stamped at or after `L − max(glitch_us)`,
/// so the buffer's output is in time order and loses nothing.
#[test]
fn pipeline_output_through_the_buffer_is_in_time_order() {
    let input = |pin: u8, glitch_us: u64, lockout_us: u64, noise: u64| InputConfig {
        pin,
        glitch_us,
        lockout_us,
        noise_steady_us: noise,
        noise_active_us: noise * 3,
        max_edges_per_s: 0,
        name: String::new(),
        device_class: None,
        pull: Default::default(),
        invert: false,
    };
    let inputs = [
        input(0, 700, 0, 0),
        input(1, 0, 0, 0),
        input(2, 0, 300, 0),
        input(3, 90, 0, 40),
    ];
    let mut pipeline = Pipeline::new(&inputs);
    let mut order = TimeOrder::new(TimeOrder::bound_for(inputs.iter().map(|i| i.glitch_us)));
    let mut all = Vec::new();
    let mut released = Vec::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut word = 0u64;
    for b in 0..200u64 {
        let mut block = Block::new(1, LevelWords::One);
        block.t0_us = 1_000_000 + b * 97;
        for _ in 0..97 {
            // Pin 1 toggles often, the others now and then (bounces shorter than the glitch).
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x % 40 == 0 {
                word ^= 1;
            }
            if x % 7 == 0 {
                word ^= 2;
            }
            if x % 50 == 1 {
                word ^= 4;
            }
            if x % 30 == 2 {
                word ^= 8;
            }
            block.levels.push(word as u32);
        }
        let mut out = Vec::new();
        pipeline.process(&block, &mut out);
        all.extend(out.iter().copied());
        for e in out {
            order.push(e);
        }
        if let Some(last) = pipeline.last_sample_us() {
            order.release(last, &mut |e| released.push(e));
        }
    }
    order.drain(&mut |e| released.push(e));
    assert!(
        all.windows(2).any(|w| w[0].t_us > w[1].t_us),
        "no reordering needed?"
    );
    assert!(released.windows(2).all(|w| w[0].t_us <= w[1].t_us));
    let mut sorted = all.clone();
    sorted.sort_by_key(|e| e.t_us);
    let key = |v: &[Edge]| {
        let mut v: Vec<_> = v.iter().map(|e| (e.t_us, e.pin, e.level)).collect();
        v.sort_unstable();
        v
    };
    assert_eq!(key(&released), key(&sorted));
}
