//! Time, injected so tests and simulations control it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of time in Unix milliseconds.
pub trait Clock: Send + Sync {
    /// The current time. It may go backwards (a machine's clock is set);
    /// whoever needs monotonic time keeps the greatest time it has recorded
    /// and never goes below it, as the ledger and the custody adapter do.
    fn now_ms(&self) -> u64;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        // A clock before 1970 reads as 0; the ledger's monotonic time then holds.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// A clock that moves only when told, shareable between a test and a ledger.
#[derive(Debug, Default, Clone)]
pub struct ManualClock {
    now_ms: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading `now_ms`.
    pub fn new(now_ms: u64) -> ManualClock {
        ManualClock {
            now_ms: Arc::new(AtomicU64::new(now_ms)),
        }
    }

    /// Sets the time.
    pub fn set(&self, now_ms: u64) {
        self.now_ms.store(now_ms, Ordering::SeqCst);
    }

    /// Moves the time forward.
    pub fn advance(&self, delta_ms: u64) {
        self.now_ms.fetch_add(delta_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_reads_what_it_was_set_to_and_moves_only_when_told() {
        let clock = ManualClock::new(1_700_000_000_000);
        assert_eq!(clock.now_ms(), 1_700_000_000_000);
        clock.advance(250);
        assert_eq!(clock.now_ms(), 1_700_000_000_250);
        clock.set(42);
        assert_eq!(clock.now_ms(), 42, "set may move time backwards");
        // Clones share the time: a test moves the clock a ledger reads.
        let shared = clock.clone();
        shared.advance(8);
        assert_eq!(clock.now_ms(), 50);
        assert_eq!(ManualClock::default().now_ms(), 0);
    }

    #[test]
    fn the_system_clock_reads_the_machines_time_in_unix_milliseconds() {
        let os_ms = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let before = os_ms(SystemTime::now());
        let read = u128::from(SystemClock.now_ms());
        let after = os_ms(SystemTime::now());
        // Within a few seconds of the OS clock either side (it may be set
        // between the reads), and in milliseconds, not seconds or micros.
        assert!(
            read + 5_000 >= before && read <= after + 5_000,
            "SystemClock read {read}, the OS clock {before}..{after}"
        );
    }
}
