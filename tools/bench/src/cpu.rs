//! CPU time of this whole process (every thread: the async workers, argon2's blocking threads,
//! the AWS SDK's HTTP client), from `/proc/self/stat`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Clock ticks per second of `utime`/`stime` (`getconf CLK_TCK`; 100 on Linux).
fn ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// User + system CPU seconds used by this process so far.
pub fn process_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat (Linux only)");
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    // There, field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
    let after_name = &stat[stat.rfind(')').expect("a stat line") + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields[i].parse::<f64>().expect("a tick count");
    (ticks(11) + ticks(12)) / ticks_per_second()
}

/// What a piece of work cost: wall-clock time and this process's CPU time.
#[derive(Clone, Copy, Debug)]
pub struct Cost {
    pub wall: Duration,
    pub cpu_seconds: f64,
}

/// Starts measuring; [`Meter::stop`] gives the cost since.
pub struct Meter {
    wall: Instant,
    cpu: f64,
}

impl Meter {
    pub fn start() -> Meter {
        Meter { wall: Instant::now(), cpu: process_seconds() }
    }

    pub fn stop(self) -> Cost {
        Cost { wall: self.wall.elapsed(), cpu_seconds: process_seconds() - self.cpu }
    }
}

impl Cost {
    /// `count` things done per CPU second (per core).
    pub fn per_cpu_second(&self, count: usize) -> f64 {
        count as f64 / self.cpu_seconds.max(1e-9)
    }

    /// `count` things done per wall-clock second.
    pub fn per_second(&self, count: usize) -> f64 {
        count as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}
