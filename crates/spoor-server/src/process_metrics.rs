//! The process metrics every Prometheus exporter is expected to have
//! (`process_resident_memory_bytes`, `process_cpu_seconds_total`,
//! `process_open_fds`, `process_threads`, `process_start_time_seconds`), read
//! from `/proc/self` at each scrape.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

/// What `/proc/self` says of this process now.
#[derive(Debug, Default, PartialEq)]
pub struct Reading {
    pub resident_bytes: u64,
    pub cpu_seconds: f64,
    pub open_fds: u64,
    pub threads: u64,
    /// Seconds since the epoch.
    pub start_time: f64,
}

/// Parses `/proc/self/stat` (after the command's closing parenthesis, which
/// may itself hold spaces and parentheses), with the clock tick, page size
/// and boot time it needs.
pub fn parse_stat(
    stat: &str,
    ticks_per_second: f64,
    page_bytes: u64,
    boot_time: f64,
) -> Option<Reading> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // Fields from the third (state) on: utime is the 14th, stime the 15th,
    // num_threads the 20th, starttime the 22nd, rss the 24th.
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| f.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    let (utime, stime) = (field(14)?, field(15)?);
    Some(Reading {
        resident_bytes: field(24)?.checked_mul(page_bytes)?,
        cpu_seconds: (utime.saturating_add(stime)) as f64 / ticks_per_second,
        open_fds: 0,
        threads: field(20)?,
        start_time: boot_time + field(22)? as f64 / ticks_per_second,
    })
}

#[cfg(target_os = "linux")]
fn read() -> Option<Reading> {
    // SAFETY: sysconf reads a configuration value; no memory is passed.
    #[allow(unsafe_code)]
    let (ticks, page) = unsafe {
        (
            libc::sysconf(libc::_SC_CLK_TCK),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let boot_time = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse::<f64>()
        .ok()?;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let mut reading = parse_stat(
        &stat,
        ticks.max(1) as f64,
        u64::try_from(page).ok()?,
        boot_time,
    )?;
    reading.open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    Some(reading)
}

#[cfg(not(target_os = "linux"))]
fn read() -> Option<Reading> {
    None
}

#[derive(Debug)]
pub struct ProcessCollector;

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(r) = read() else { return Ok(()) };
        let gauges: [(&str, &str, Option<Unit>, f64); 4] = [
            (
                "process_resident_memory",
                "Resident memory size",
                Some(Unit::Bytes),
                r.resident_bytes as f64,
            ),
            (
                "process_open_fds",
                "Open file descriptors",
                None,
                r.open_fds as f64,
            ),
            ("process_threads", "Threads", None, r.threads as f64),
            (
                "process_start_time",
                "Start time since the epoch",
                Some(Unit::Seconds),
                r.start_time,
            ),
        ];
        for (name, help, unit, value) in &gauges {
            let g = ConstGauge::new(*value);
            g.encode(encoder.encode_descriptor(name, help, unit.as_ref(), g.metric_type())?)?;
        }
        let cpu = ConstCounter::new(r.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu",
            "User and system CPU time spent",
            Some(&Unit::Seconds),
            cpu.metric_type(),
        )?)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_is_read_whatever_the_command_name_holds() {
        // pid (comm) state ppid ... as the kernel writes it; a command name
        // with a space and a parenthesis.
        let mut fields = vec!["S"; 50];
        fields[14 - 3] = "250"; // utime
        fields[15 - 3] = "50"; // stime
        fields[20 - 3] = "12"; // threads
        fields[22 - 3] = "1000"; // starttime
        fields[24 - 3] = "2048"; // rss pages
        let stat = format!("4242 (spoor (x) y) {}", fields.join(" "));
        let r = parse_stat(&stat, 100.0, 4096, 1_700_000_000.0).unwrap();
        assert_eq!(
            r,
            Reading {
                resident_bytes: 2048 * 4096,
                cpu_seconds: 3.0,
                open_fds: 0,
                threads: 12,
                start_time: 1_700_000_010.0,
            }
        );
        assert_eq!(
            parse_stat("4242 (spoor) S 1 2", 100.0, 4096, 0.0),
            None,
            "too short"
        );
        assert_eq!(parse_stat("no parenthesis", 100.0, 4096, 0.0), None);
    }

    #[test]
    fn this_process_is_read() {
        let r = read().expect("/proc/self");
        assert!(
            r.resident_bytes > 0 && r.threads >= 1 && r.open_fds >= 3,
            "{r:?}"
        );
        assert!(r.start_time > 1_600_000_000.0, "{r:?}");
    }
}
