//! `spoor import FILE...`: rows of other tools' exports (and Spoor's own)
//! stored as events, through the same validation and enrichment as
//! ingestion and the same deduplicating writer.
//!
//! Two threads: one reads, translates (`spoor_core::import`), validates and
//! enriches rows into chunks of events; this one commits each chunk and then
//! records the file offset it reached (the checkpoint), so an interrupted
//! import resumes at a row boundary. Every message's id is fixed by its row,
//! so running an import again, whole or resumed, stores nothing twice.

mod checkpoint;
mod input;
mod progress;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Instant;

use anyhow::Context;
use chrono::Datelike;
use serde_json::{Map, Value};
use spoor_core::import::{Source, Translator, arrival, detect};
use spoor_core::validate::validate;
use spoor_core::{Enrichment, Event, ValidationContext};
use spoor_server::enrich::{Enricher, agent_enrichment};
use spoor_store::{Batch, Store};

use crate::cli::ImportArgs;
use checkpoint::Checkpoint;
use input::{Format, Row, Rows};
use progress::Progress;

/// Events per commit: large enough that a commit's fixed cost is small,
/// small enough that a checkpoint is never far behind.
const CHUNK_EVENTS: usize = 5_000;
/// Chunks between the reader and the writer.
const CHUNKS_IN_FLIGHT: usize = 4;

/// What happened to one file's rows.
#[derive(Default)]
struct Tally {
    rows: u64,
    events: u64,
    stored: u64,
    duplicates: u64,
    /// Skipped rows and refused messages, by reason: how many, and the first.
    skipped: BTreeMap<&'static str, (u64, u64, String)>,
}

impl Tally {
    fn skip(&mut self, reason: &'static str, row: u64, detail: String) {
        let e = self.skipped.entry(reason).or_insert((0, row, detail));
        e.0 += 1;
    }
}

/// A chunk of events and the offset just past the last row they came from.
struct Chunk {
    events: Vec<Event>,
    end: u64,
    rows: u64,
}

pub fn run(store: &Store, args: ImportArgs) -> anyhow::Result<()> {
    let project = store
        .project(&args.project)
        .with_context(|| format!("no project {:?}", args.project))?;
    let forced = args
        .source
        .as_deref()
        .map(|s| Source::parse(s).expect("clap checked it"));
    let enricher = Enricher::new(args.geoip_db.as_deref()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut writer = store.writer()?;
    let started = Instant::now();
    let mut all = Tally::default();
    let mut months = Months::default();
    for path in &args.files {
        let tally = import_file(path, forced, &args, &project, &enricher, &mut |events| {
            months.make_partitions(store, events);
            let done = writer.append(
                &[Batch {
                    project_id: project.id,
                    key_id: None,
                    events,
                }],
                spoor_core::time::now_ms(),
            )?;
            Ok(done.first().map_or((0, 0), |a| (a.accepted, a.duplicates)))
        })
        .with_context(|| format!("importing {}", path.display()))?;
        all.rows += tally.rows;
        all.events += tally.events;
        all.stored += tally.stored;
        all.duplicates += tally.duplicates;
    }
    if args.files.len() > 1 {
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        println!(
            "all files: {} rows, {} events: {} stored, {} already there, in {:.1} s ({:.0} events/s)",
            all.rows,
            all.events,
            all.stored,
            all.duplicates,
            secs,
            all.events as f64 / secs
        );
    }
    Ok(())
}

/// The months an import has made the event log's partitions for (on
/// PostgreSQL: the embedded store has none). Rows of a month without its
/// partition land in the default partition, and moving millions of them out
/// later takes longer than a statement may: so an import makes a month's
/// partitions before it writes the month's first rows, as the server does for
/// the current month before it starts.
#[derive(Default)]
struct Months {
    made: std::collections::BTreeSet<i32>,
    /// A failure (moving rows out of a full default partition can exceed the
    /// statement timeout) is not tried again for each month.
    failed: bool,
}

impl Months {
    fn make_partitions(&mut self, store: &Store, events: &[Event]) {
        let now = spoor_core::time::now_ms();
        for event in events {
            // Rows without a client time, or before 2000, go to a partition
            // of their own (`events_untimed`). A month's partitions come
            // with the next two's, so months past this one need no call: a
            // time far in the future makes nothing.
            let Some(at) = (event.dedup_ts > 0 && event.dedup_ts <= now)
                .then(|| chrono::DateTime::from_timestamp_millis(event.dedup_ts))
                .flatten()
                .filter(|at| at.year() >= 2000)
            else {
                continue;
            };
            let month = at
                .year()
                .saturating_mul(12)
                .saturating_add(at.month0() as i32);
            if !self.failed && self.made.insert(month) {
                // Not made: the rows go to the default partition, and the
                // scheduler moves them later, as it would have.
                if let Err(e) = store.maintain_partitions(event.dedup_ts) {
                    tracing::warn!("cannot make the partitions of {at}'s month: {e}");
                    self.failed = true;
                }
            }
        }
    }
}

type Commit<'a> = dyn FnMut(&[Event]) -> spoor_store::StoreResult<(usize, usize)> + 'a;

fn import_file(
    path: &Path,
    forced: Option<Source>,
    args: &ImportArgs,
    project: &spoor_store::Project,
    enricher: &Enricher,
    commit: &mut Commit<'_>,
) -> anyhow::Result<Tally> {
    let stdin = path.as_os_str() == "-";
    let first_byte = if stdin {
        None
    } else {
        first_byte(path).with_context(|| format!("cannot read {}", path.display()))?
    };
    let format = Format::of(path, first_byte);
    let source = match forced {
        Some(s) => s,
        None if stdin => anyhow::bail!("name what standard input holds with --source"),
        None => sniff(path, format)?,
    };
    let mut translator = Translator::default();
    if source.needs_first_pass() {
        anyhow::ensure!(
            !stdin,
            "--source {} reads its file twice: give a file, not -",
            source.name()
        );
        let mut rows = input::open(path, format, 0, 0)?;
        while let Some(r) = rows.next_row()? {
            if let Row::Fields(f) = r.row {
                translator.learn(source, &f);
            }
        }
    }
    let resume = if stdin || args.restart {
        None
    } else {
        checkpoint::load(path, source.name())
    };
    let (offset, first_row) = resume.as_ref().map_or((0, 0), |c| (c.offset, c.rows));
    if let Some(c) = &resume {
        eprintln!(
            "{}: resuming after row {} (byte {}); --restart starts again",
            path.display(),
            c.rows,
            c.offset
        );
    }
    let identity = if stdin {
        None
    } else {
        checkpoint::identify(path).ok()
    };
    let total_bytes = identity.as_ref().map(|(len, _)| *len);
    let rows = input::open(path, format, offset, first_row)?;
    let mut progress = Progress::new(path, total_bytes, args.quiet);
    let started = Instant::now();
    let mut tally = Tally::default();
    let (tx, rx) = sync_channel::<Chunk>(CHUNKS_IN_FLIGHT);
    let reader_tally = std::thread::scope(|scope| -> anyhow::Result<Tally> {
        let reader = scope.spawn(|| read_rows(rows, source, &translator, project, enricher, tx));
        let wrote = write_chunks(&rx, commit, &mut tally, &mut progress, |chunk| {
            if let Some((len, head)) = &identity {
                let cp = Checkpoint {
                    file_len: *len,
                    head: head.clone(),
                    source: source.name().into(),
                    offset: chunk.end,
                    rows: chunk.rows,
                };
                if let Err(e) = checkpoint::save(path, &cp) {
                    return Some(format!(
                        "cannot write the checkpoint beside the file ({e}); an interrupted import will start again from the beginning"
                    ));
                }
            }
            None
        });
        // Dropping the receiver stops the reader at its next chunk.
        drop(rx);
        let read = reader
            .join()
            .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
        wrote?;
        read
    })?;
    progress.finish();
    tally.rows = reader_tally.rows;
    tally.events = reader_tally.events;
    tally.skipped = reader_tally.skipped;
    if !stdin {
        checkpoint::remove(path);
    }
    report(path, source, &tally, started.elapsed().as_secs_f64());
    Ok(tally)
}

fn first_byte(path: &Path) -> std::io::Result<Option<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = [0u8; 512];
    let n = f.read(&mut buf)?;
    Ok(buf[..n].iter().copied().find(|b| !b.is_ascii_whitespace()))
}

/// The source, told from the file's first readable row.
fn sniff(path: &Path, format: Format) -> anyhow::Result<Source> {
    let mut rows = input::open(path, format, 0, 0)?;
    while let Some(r) = rows.next_row()? {
        if let Row::Fields(f) = r.row {
            return detect(&f).ok_or_else(|| {
                let names: Vec<&str> = Source::ALL.iter().map(|(_, n, _)| *n).collect();
                anyhow::anyhow!(
                    "cannot tell what the file holds from its first row's fields ({}); name it with --source, one of {}",
                    f.keys().cloned().collect::<Vec<_>>().join(", "),
                    names.join(", ")
                )
            });
        }
    }
    anyhow::bail!("the file holds no rows")
}

/// The reader thread: rows to validated, enriched events, in chunks.
fn read_rows(
    mut rows: Rows,
    source: Source,
    translator: &Translator,
    project: &spoor_store::Project,
    enricher: &Enricher,
    tx: SyncSender<Chunk>,
) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    let mut events = Vec::with_capacity(CHUNK_EVENTS);
    let mut last = (0u64, 0u64);
    let now = spoor_core::time::now_ms();
    while let Some(r) = rows.next_row()? {
        tally.rows += 1;
        last = (r.end, r.number);
        let fields: Map<String, Value> = match r.row {
            Row::Fields(f) => f,
            Row::Unreadable { reason, detail } => {
                tally.skip(reason, r.number, detail);
                continue;
            }
        };
        match translator.translate(source, fields) {
            Err(skip) => tally.skip(skip.reason, r.number, skip.detail),
            Ok(imported) => {
                for mut i in imported {
                    tally.events += 1;
                    let received_at = arrival(&mut i.message, now);
                    let ctx = ValidationContext {
                        received_at,
                        ..Default::default()
                    };
                    match validate(i.message, &ctx) {
                        Err(rej) => tally.skip(rej.reason, r.number, rej.error),
                        Ok(v) => {
                            let mut event = v.event;
                            event.enrichment = match i.enrichment {
                                Some(e) => e,
                                None => enrich(
                                    enricher,
                                    v.user_agent.as_deref(),
                                    v.ip,
                                    project.keep_full_ip,
                                ),
                            };
                            events.push(event);
                        }
                    }
                }
            }
        }
        if events.len() >= CHUNK_EVENTS {
            let chunk = Chunk {
                events: std::mem::replace(&mut events, Vec::with_capacity(CHUNK_EVENTS)),
                end: r.end,
                rows: r.number,
            };
            if tx.send(chunk).is_err() {
                // The writer stopped on an error it reports.
                return Ok(tally);
            }
        }
    }
    let _ = tx.send(Chunk {
        events,
        end: last.0,
        rows: last.1,
    });
    Ok(tally)
}

/// The committing side: each chunk, then its checkpoint.
fn write_chunks(
    rx: &Receiver<Chunk>,
    commit: &mut Commit<'_>,
    tally: &mut Tally,
    progress: &mut Progress,
    mut checkpoint: impl FnMut(&Chunk) -> Option<String>,
) -> anyhow::Result<()> {
    for chunk in rx.iter() {
        if !chunk.events.is_empty() {
            let (stored, duplicates) = commit(&chunk.events)?;
            tally.stored += stored as u64;
            tally.duplicates += duplicates as u64;
        }
        if let Some(warning) = checkpoint(&chunk) {
            progress.warn_once(&warning);
        }
        progress.update(chunk.end, chunk.rows, tally.stored, tally.duplicates);
    }
    Ok(())
}

/// As ingestion enriches, from the message's own agent and address (an
/// import has no request of its own); the enricher caches parsed agents.
fn enrich(
    enricher: &Enricher,
    user_agent: Option<&str>,
    ip: Option<IpAddr>,
    keep_full_ip: bool,
) -> Enrichment {
    let agent = enricher.agent(user_agent.unwrap_or(""));
    match ip {
        Some(ip) => enricher.enrich(&agent, &enricher.locate(ip), ip, keep_full_ip),
        None => agent_enrichment(&agent),
    }
}

fn report(path: &Path, source: Source, t: &Tally, secs: f64) {
    let secs = secs.max(1e-3);
    let skipped: u64 = t.skipped.values().map(|(n, _, _)| n).sum();
    println!(
        "{} ({}): {} rows, {} events: {} stored, {} already there, {} skipped, in {:.1} s ({:.0} events/s)",
        path.display(),
        source.name(),
        t.rows,
        t.events,
        t.stored,
        t.duplicates,
        skipped,
        secs,
        t.events as f64 / secs
    );
    for (reason, (n, row, detail)) in &t.skipped {
        println!("  skipped {n} for {reason}, first at row {row}: {detail}");
    }
}
