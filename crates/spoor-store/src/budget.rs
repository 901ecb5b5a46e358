//! The process's memory budget for caches (`spoor serve --memory-budget`).
//!
//! Every cache that grows with load takes its size from here: SQLite's page
//! caches (bounded all together by SQLite's soft heap limit too), the
//! sessions fold's working set of people, and the CRM fold's cache of stored
//! contacts. The pipeline's pass takes its size from here too: it reads at
//! most [`MemoryBudget::pass_events`] events, and what it holds for them comes
//! on top of the caches. Nothing else the pipeline keeps grows with the
//! traffic. The budget is per process because SQLite's heap limit is, and it
//! is set once, before a store opens.

use std::sync::atomic::{AtomicU64, Ordering};

/// The default. The caches it sizes are a part of the server's RSS, not all of
/// it: under the ingestion benchmark's overload the whole server peaked at
/// 139 to 142 MB with the default's passes of 4,096 events, at 1,000 events/s
/// at 69 MB (docs/performance.md). 64
/// MiB, the default before, peaked 6 to 35 MB higher (up to 159 MB under
/// overload on a fast day) and caught up on a backlog no faster: the
/// pipeline's time is in the rows it writes, not in pages missed.
pub const DEFAULT_MEMORY_BUDGET: u64 = 32 * 1024 * 1024;
/// The smallest budget taken: below it, caches are too small to be worth it.
pub const MIN_MEMORY_BUDGET: u64 = 8 * 1024 * 1024;

static BUDGET: AtomicU64 = AtomicU64::new(DEFAULT_MEMORY_BUDGET);

/// Bytes a held person costs the sessions fold, with their sessions, links
/// and index entries (measured as RSS).
const BYTES_PER_PERSON: u64 = 5_000;
/// Bytes a cached CRM entry (contact, identity, visitor) costs.
const BYTES_PER_CRM_ENTRY: u64 = 200;
/// Budget bytes per event a pass reads. A pass holds, at its peak, what its
/// folds derived for the people its events touch and what they kept of the
/// events: about 8.5 KB an event of the benchmark's load (heap profiles of
/// catch-ups at the default budget in passes of 2,048 and 4,096), on top of
/// the caches. The default gives passes of 4,096, which hold about as much as
/// the budget again: under the ingestion benchmark's overload the server
/// peaked about 11 MB higher than with passes of 2,048 (139 to 142 MB, within
/// the 150 MB bound), for 10 to 15% less pipeline CPU an event
/// (docs/performance.md, "Passes of 4,096 events").
const BUDGET_BYTES_PER_PASS_EVENT: u64 = 8 * 1024;
/// The fewest events a pass reads, whatever the budget: below it, a pass's
/// commit is paid for too few events.
pub const MIN_PASS_EVENTS: i64 = 500;
/// The most: a pass also holds the pipeline's write lock on the derived
/// tables, and its events' effects show only once it commits.
pub const MAX_PASS_EVENTS: i64 = 100_000;

/// A size as people write it for `--memory-budget`: a whole number of bytes,
/// or one with a unit, `KB`/`MB`/`GB` (powers of 1,000) or `KiB`/`MiB`/`GiB`
/// and the short `K`/`M`/`G` (powers of 1,024), in any case: `67108864`,
/// `64MiB`, `512MB`, `1g`.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let bad = || {
        format!(
            "{text:?} is not a size: write bytes, or a whole number with KB, MB, GB, KiB, MiB or GiB (e.g. 64MiB)"
        )
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        _ => return Err(bad()),
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("{text:?} is more bytes than this machine can count"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryBudget(u64);

impl MemoryBudget {
    /// Sets the budget for stores opened from now on (at least
    /// [`MIN_MEMORY_BUDGET`]).
    pub fn set(bytes: u64) {
        BUDGET.store(bytes.max(MIN_MEMORY_BUDGET), Ordering::Relaxed);
    }

    pub fn get() -> MemoryBudget {
        MemoryBudget(BUDGET.load(Ordering::Relaxed))
    }

    pub fn bytes(self) -> u64 {
        self.0
    }

    /// SQLite's heap, all connections together (its soft heap limit): five
    /// eighths, the page caches below and room for their statements.
    pub fn sqlite_bytes(self) -> u64 {
        self.0 / 8 * 5
    }

    /// The event writer's page cache: the log's index pages it appends to,
    /// where every event's id is looked up (a quarter: with an eighth of 32
    /// MiB, sustained ingestion was about a tenth slower).
    pub fn writer_cache_kib(self) -> i64 {
        kib(self.0 / 4)
    }

    /// The pipeline's connection: the derived tables a pass reads and
    /// rewrites (a quarter: it is where a cache miss costs most).
    pub fn pipeline_cache_kib(self) -> i64 {
        kib(self.0 / 4)
    }

    /// Each of the connections that answer reads (and the pipeline's reads of
    /// the log): they share a sixteenth.
    pub fn reader_cache_kib(self, connections: usize) -> i64 {
        kib(self.0 / 16 / connections.max(1) as u64)
    }

    /// People the sessions fold holds: a quarter.
    pub fn working_set_people(self) -> usize {
        usize::try_from(self.0 / 4 / BYTES_PER_PERSON)
            .unwrap_or(usize::MAX)
            .max(100)
    }

    /// Events one pipeline pass reads at most: one per 8 KiB of the budget,
    /// within [`MIN_PASS_EVENTS`] and [`MAX_PASS_EVENTS`]. Larger passes write
    /// a row that several of their events changed once, and a page that
    /// several rows share once: on a 300,000-event backlog, with the caches of
    /// a 128 MiB budget passes of 8,000 caught up 12% faster than passes of
    /// 2,000, and with a 256 MiB budget's passes of 16,384 19% faster
    /// (docs/performance.md, "Passes sized by the memory budget").
    pub fn pass_events(self) -> i64 {
        i64::try_from(self.0 / BUDGET_BYTES_PER_PASS_EVENT)
            .unwrap_or(i64::MAX)
            .clamp(MIN_PASS_EVENTS, MAX_PASS_EVENTS)
    }

    /// Entries of one generation of the CRM fold's cache (two are kept): an
    /// eighth, over both.
    pub fn crm_cache_generation(self) -> usize {
        usize::try_from(self.0 / 8 / BYTES_PER_CRM_ENTRY / 2)
            .unwrap_or(usize::MAX)
            .max(1_000)
    }
}

/// KiB, and at least 64 (a few pages: SQLite works with any cache, a smaller
/// one costs reads).
fn kib(bytes: u64) -> i64 {
    i64::try_from(bytes / 1024).unwrap_or(i64::MAX).max(64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_and_without_units_and_nothing_else_does() {
        assert_eq!(parse_bytes("67108864"), Ok(64 << 20));
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes(" 64 mib "), Ok(64 << 20));
        assert_eq!(parse_bytes("512MB"), Ok(512_000_000));
        assert_eq!(parse_bytes("1g"), Ok(1 << 30));
        assert_eq!(parse_bytes("8KiB"), Ok(8192));
        assert_eq!(parse_bytes("0"), Ok(0));
        // The largest count there is, and one unit past it.
        assert_eq!(parse_bytes("18446744073709551615"), Ok(u64::MAX));
        assert!(parse_bytes("18446744073709551616").is_err());
        assert!(
            parse_bytes("17179869184GiB")
                .unwrap_err()
                .contains("more bytes")
        );
        for bad in ["", "MiB", "-1", "1.5GiB", "64 TB", "64MiBs", "0x40"] {
            let e = parse_bytes(bad).unwrap_err();
            assert!(e.contains("e.g. 64MiB"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn the_parts_stay_within_the_whole() {
        for total in [MIN_MEMORY_BUDGET, DEFAULT_MEMORY_BUDGET, 1 << 30] {
            let b = MemoryBudget(total);
            let sqlite = (b.writer_cache_kib() + b.pipeline_cache_kib()) as u64 * 1024
                + b.reader_cache_kib(10) as u64 * 1024 * 10;
            assert!(sqlite <= b.sqlite_bytes(), "{total}: {sqlite}");
            let rest = b.working_set_people() as u64 * BYTES_PER_PERSON
                + b.crm_cache_generation() as u64 * 2 * BYTES_PER_CRM_ENTRY;
            assert!(sqlite + rest <= total, "{total}: {}", sqlite + rest);
        }
    }

    #[test]
    fn passes_grow_with_the_budget_within_their_bounds() {
        assert_eq!(MemoryBudget(DEFAULT_MEMORY_BUDGET).pass_events(), 4_096);
        assert_eq!(MemoryBudget(256 << 20).pass_events(), 32_768);
        // The floor, and just above it.
        assert_eq!(MemoryBudget(MIN_MEMORY_BUDGET).pass_events(), 1_024);
        assert_eq!(MemoryBudget(0).pass_events(), MIN_PASS_EVENTS);
        let floor = MIN_PASS_EVENTS as u64 * BUDGET_BYTES_PER_PASS_EVENT;
        assert_eq!(MemoryBudget(floor - 1).pass_events(), MIN_PASS_EVENTS);
        assert_eq!(
            MemoryBudget(floor + BUDGET_BYTES_PER_PASS_EVENT).pass_events(),
            MIN_PASS_EVENTS + 1
        );
        // The ceiling, just below it, and the largest budget there is.
        let ceiling = MAX_PASS_EVENTS as u64 * BUDGET_BYTES_PER_PASS_EVENT;
        assert_eq!(
            MemoryBudget(ceiling - BUDGET_BYTES_PER_PASS_EVENT).pass_events(),
            MAX_PASS_EVENTS - 1
        );
        assert_eq!(MemoryBudget(ceiling).pass_events(), MAX_PASS_EVENTS);
        assert_eq!(MemoryBudget(u64::MAX).pass_events(), MAX_PASS_EVENTS);
    }

    #[test]
    fn a_budget_below_the_floor_is_raised_to_it() {
        let before = MemoryBudget::get();
        MemoryBudget::set(1);
        assert_eq!(MemoryBudget::get().bytes(), MIN_MEMORY_BUDGET);
        MemoryBudget::set(before.bytes());
    }
}
