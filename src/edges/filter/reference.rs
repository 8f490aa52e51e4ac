//! Deliberately naive reference models of the filters, for the property tests.
//!
//! They work on a densely sampled signal, one level per microsecond (`input[i]` is the level at
//! `t0 + i`), not on edges, and restate each rule in the most direct way, so they share no logic
//! with the state machines they check.

/// The edges of a dense signal: one per change, stamped with the first µs showing the new level.
pub fn edges_of(levels: &[u8], t0: u64) -> Vec<(u8, u64)> {
    (1..levels.len())
        .filter(|&i| levels[i] != levels[i - 1])
        .map(|i| (levels[i], t0 + i as u64))
        .collect()
}

/// Glitch filter: a change at `i` is kept iff the level then holds for `g` µs, which the signal
/// must show (its sample `i + g` exists); the output is the level of the last kept change.
pub fn glitch(input: &[u8], g: u64) -> Vec<u8> {
    let g = g as usize;
    let n = input.len();
    let mut out = Vec::with_capacity(n);
    let mut cur = input.first().copied().unwrap_or(0);
    for i in 0..n {
        let change = i > 0 && input[i] != input[i - 1];
        let lasts = i + g < n && input[i..i + g].iter().all(|&l| l == input[i]);
        if change && lasts {
            cur = input[i];
        }
        out.push(cur);
    }
    out
}

/// Lockout filter, simulated microsecond by microsecond.
pub fn lockout(input: &[u8], l: u64) -> Vec<u8> {
    let n = input.len();
    let mut out = Vec::with_capacity(n);
    let Some(&first) = input.first() else {
        return out;
    };
    if l == 0 {
        return input.to_vec();
    }
    let l = l as usize;
    let mut reported = first;
    let mut window_end: Option<usize> = None;
    out.push(first);
    for i in 1..n {
        // The window ends at i: the level held back during it (the one just before i) counts.
        if window_end == Some(i) {
            window_end = None;
            if input[i - 1] != reported {
                reported = input[i - 1];
                window_end = Some(i + l);
            }
        }
        if input[i] != input[i - 1] && window_end.is_none() {
            reported = input[i];
            window_end = Some(i + l);
        }
        out.push(reported);
    }
    out
}

/// pigpio's `alertNoiseFilter` (pigpio.c), transliterated, run on one sample per µs at times
/// `t0 + i`; `gpioNoiseFilter` set it up at time 0 with the first sample's level.
pub fn noise(input: &[u8], t0: u64, steady: u64, active: u64) -> Vec<u8> {
    if steady == 0 {
        return input.to_vec();
    }
    let first = input.first().copied().unwrap_or(0);
    let (mut l_bit, mut r_bit) = (first, first);
    let (mut nf_active, mut tick1, mut tick2) = (false, 0u64, 0u64);
    let mut out = Vec::with_capacity(input.len());
    for (i, &bit) in input.iter().enumerate() {
        let now = t0 + i as u64;
        if nf_active {
            if now >= tick2 {
                nf_active = false;
                tick1 = now;
            }
        } else if bit != l_bit {
            let diff = now - tick1;
            tick1 = now;
            if diff >= steady {
                r_bit = l_bit;
                nf_active = true;
                tick2 = now + active;
            }
        }
        out.push(if nf_active { bit } else { r_bit });
        l_bit = bit;
    }
    out
}

/// Rate limit of `n` reports per `w` µs with a burst of `n`, restated as a sliding-window rule
/// rather than a bucket: at every µs the level is reported if it differs from the last reported
/// one and, for every earlier report at `s`, the reports in `[s, now]` (this one included)
/// number at most `n + n·(now − s)/w`: the burst plus what the refill brought since `s`.
pub fn rate_limit(input: &[u8], n: u64, w: u64) -> Vec<u8> {
    let Some(&first) = input.first() else {
        return Vec::new();
    };
    if n == 0 {
        return input.to_vec();
    }
    let mut out = Vec::with_capacity(input.len());
    let mut reports: Vec<usize> = Vec::new();
    let mut reported = first;
    for (i, &level) in input.iter().enumerate() {
        if level != reported {
            let allowed = reports.iter().enumerate().all(|(k, &s)| {
                let count = (reports.len() - k + 1) as u64;
                count * w <= n * w + n * (i - s) as u64
            });
            if allowed {
                reported = level;
                reports.push(i);
            }
        }
        out.push(reported);
    }
    out
}

/// The full chain (noise → glitch → lockout → rate limit) on a signal known up to its last
/// sample.
///
/// The glitch stage cannot vouch for its output from a still unconfirmed last change on, so the
/// later stages only see the glitch output up to just before it, as in the real chain.
pub fn chain(input: &[u8], t0: u64, s: &super::PinSettings) -> Vec<u8> {
    let f = &s.filter;
    let n = noise(input, t0, f.noise_steady_us, f.noise_active_us);
    let g = glitch(&n, f.glitch_us);
    let settled = match (n.last(), g.last()) {
        (Some(a), Some(b)) if a != b => (1..n.len()).rev().find(|&i| n[i] != n[i - 1]),
        _ => Some(n.len()),
    };
    let l = lockout(&g[..settled.unwrap_or(0)], f.lockout_us);
    rate_limit(&l, u64::from(s.max_edges_per_s), 1_000_000)
}
