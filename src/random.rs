//! A random `u64` from the OS, for what only needs values that differ between devices and runs
//! (run ids, reconnect jitter, scratch file names), not secrets. A leaf: the agent, the emulator
//! and the MQTT link all use it, so it belongs to none of them.

/// A random u64 from the OS; falls back to the clock if the OS source fails, since its users
/// only need values that differ between devices, not unpredictable ones.
pub fn os_random() -> u64 {
    getrandom::u64().unwrap_or_else(|_| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15)
    })
}

#[cfg(test)]
#[path = "random_tests.rs"]
mod tests;
