//! Prometheus text exposition (format 0.0.4) for `/metrics`, and the
//! settlement latency histogram, shared by the relay and the gateway.

use std::fmt::{Display, Write as _};

/// Upper bounds of the latency histogram's buckets, milliseconds: from a
/// settlement on one machine (milliseconds) to one that waits for a
/// repetition interval or a restarted node (seconds).
pub const LATENCY_BUCKETS_MS: [u64; 14] = [
    5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000,
];

/// A histogram of durations in whole milliseconds: cumulative counts per
/// bucket of [`LATENCY_BUCKETS_MS`], the count and the sum. Integers only, so
/// no rounding creeps into the sum.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatencyHistogram {
    /// Observations at or below each bound of [`LATENCY_BUCKETS_MS`] (not cumulative).
    in_bucket: [u64; LATENCY_BUCKETS_MS.len()],
    count: u64,
    sum_ms: u64,
}

impl LatencyHistogram {
    /// Adds one duration.
    pub fn observe(&mut self, duration_ms: u64) {
        self.count += 1;
        self.sum_ms = self.sum_ms.saturating_add(duration_ms);
        if let Some(bucket) = LATENCY_BUCKETS_MS
            .iter()
            .position(|bound| duration_ms <= *bound)
        {
            self.in_bucket[bucket] += 1;
        }
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// `(bound_ms, observations at or below it)`, cumulative, bound by bound.
    pub fn cumulative(&self) -> Vec<(u64, u64)> {
        let mut running = 0;
        LATENCY_BUCKETS_MS
            .iter()
            .zip(self.in_bucket)
            .map(|(bound, n)| {
                running += n;
                (*bound, running)
            })
            .collect()
    }
}

/// Milliseconds as decimal seconds, exactly: 2500 → `2.5`, 5 → `0.005`.
fn seconds(ms: u64) -> String {
    let fraction = format!("{:03}", ms % 1000);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{}", ms / 1000)
    } else {
        format!("{}.{fraction}", ms / 1000)
    }
}

/// A `/metrics` page under construction.
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
}

impl Exposition {
    /// An empty page.
    pub fn new() -> Exposition {
        Exposition::default()
    }

    /// Starts a metric family: its `# HELP` and `# TYPE` lines.
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        // Writing into a String cannot fail.
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    /// One sample, with its labels (values are ours: codes and phase names,
    /// never participant input, so they need no escaping).
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        let _ = write!(self.text, "{name}");
        if !labels.is_empty() {
            let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            let _ = write!(self.text, "{{{}}}", pairs.join(","));
        }
        let _ = writeln!(self.text, " {value}");
    }

    /// A family of one sample per `(label value, count)`.
    pub fn counts<'a, K: AsRef<str> + 'a>(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        label: &str,
        rows: impl IntoIterator<Item = (&'a K, &'a u64)>,
    ) {
        self.family(name, kind, help);
        for (value, count) in rows {
            self.sample(name, &[(label, value.as_ref())], count);
        }
    }

    /// A histogram family in seconds: `_bucket{le}` cumulative, `+Inf`, `_sum`, `_count`.
    pub fn histogram(&mut self, name: &str, help: &str, histogram: &LatencyHistogram) {
        self.family(name, "histogram", help);
        let bucket = format!("{name}_bucket");
        for (bound, count) in histogram.cumulative() {
            self.sample(&bucket, &[("le", &seconds(bound))], count);
        }
        self.sample(&bucket, &[("le", "+Inf")], histogram.count);
        self.sample(&format!("{name}_sum"), &[], seconds(histogram.sum_ms));
        self.sample(&format!("{name}_count"), &[], histogram.count);
    }

    /// The page.
    pub fn finish(self) -> String {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_fall_in_the_first_bucket_that_holds_them_and_accumulate() {
        let mut h = LatencyHistogram::default();
        for ms in [0, 5, 6, 2_500, 400_000] {
            h.observe(ms);
        }
        let cumulative = h.cumulative();
        assert_eq!(cumulative[0], (5, 2), "0 and 5 ms are at or below 5 ms");
        assert_eq!(cumulative[1], (10, 3));
        assert_eq!(cumulative[8], (2_500, 4));
        assert_eq!(
            cumulative.last(),
            Some(&(300_000, 4)),
            "400 s is above every bound"
        );
        assert_eq!(h.count(), 5);
        let mut page = Exposition::new();
        page.histogram("x_seconds", "help", &h);
        let text = page.finish();
        assert!(
            text.contains("x_seconds_bucket{le=\"0.005\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("x_seconds_bucket{le=\"2.5\"} 4\n"), "{text}");
        assert!(text.contains("x_seconds_bucket{le=\"+Inf\"} 5\n"), "{text}");
        assert!(text.contains("x_seconds_sum 402.511\n"), "{text}");
        assert!(text.contains("x_seconds_count 5\n"), "{text}");
    }

    #[test]
    fn seconds_are_written_exactly() {
        assert_eq!(seconds(0), "0");
        assert_eq!(seconds(5), "0.005");
        assert_eq!(seconds(250), "0.25");
        assert_eq!(seconds(60_000), "60");
        assert_eq!(seconds(1_001), "1.001");
    }
}
