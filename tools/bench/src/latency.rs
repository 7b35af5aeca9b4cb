//! Response times of single calls, in process (no network between browser and function; the
//! DynamoDB Local round trips are in).

use std::future::Future;
use std::time::{Duration, Instant};

/// Median and 99th percentile, in milliseconds.
#[derive(Clone, Copy, Debug)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
}

/// Collects the durations of calls.
#[derive(Default)]
pub struct Samples(Vec<Duration>);

impl Samples {
    /// Awaits `call`, keeping how long it took.
    pub async fn time<T>(&mut self, call: impl Future<Output = T>) -> T {
        let start = Instant::now();
        let out = call.await;
        self.0.push(start.elapsed());
        out
    }

    /// Nearest-rank percentiles (with 20 or 50 samples, p99 is the slowest call).
    pub fn percentiles(mut self) -> Percentiles {
        assert!(!self.0.is_empty(), "no samples");
        self.0.sort();
        let rank = |p: f64| {
            let index = ((p * self.0.len() as f64).ceil() as usize).clamp(1, self.0.len()) - 1;
            self.0[index].as_secs_f64() * 1000.0
        };
        Percentiles { p50: rank(0.50), p99: rank(0.99) }
    }
}
