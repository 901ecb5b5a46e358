//! `spoor export events`: NDJSON or CSV on standard output, one row at a time.

use std::io::Write;

use anyhow::Context;
use spoor_core::csv_export::CsvWriter;
use spoor_core::range::parse_instant;
use spoor_store::{EventQuery, Store, StoreError};

use crate::cli::{ExportCommand, ExportFormat};

const CSV_HEADER: [&str; 22] = [
    "message_id",
    "type",
    "name",
    "user_id",
    "anonymous_id",
    "session_id",
    "timestamp",
    "received_at",
    "url",
    "referrer",
    "ip",
    "country",
    "region",
    "city",
    "browser",
    "browser_version",
    "os",
    "os_version",
    "device_type",
    "is_bot",
    "properties",
    "message",
];

pub fn run(store: &Store, cmd: ExportCommand) -> anyhow::Result<()> {
    let ExportCommand::Events {
        project,
        since,
        until,
        format,
    } = cmd;
    let project = store.project(&project)?;
    let query = EventQuery {
        project_id: project.id,
        since: since
            .as_deref()
            .map(|s| parse_instant("since", s))
            .transpose()
            .context("--since")?,
        until: until
            .as_deref()
            .map(|s| parse_instant("until", s))
            .transpose()
            .context("--until")?,
        ..Default::default()
    };
    let stdout = std::io::stdout().lock();
    let io = |e: std::io::Error| StoreError::Invalid(format!("cannot write the export: {e}"));
    match format {
        ExportFormat::Ndjson => {
            let mut out = std::io::BufWriter::new(stdout);
            store.for_each_event(&query, &mut |row| {
                serde_json::to_writer(&mut out, &row.event.to_json(&project.name))
                    .map_err(|e| io(e.into()))?;
                out.write_all(b"\n").map_err(io)
            })?;
            out.flush()?;
        }
        ExportFormat::Csv => {
            let mut out = CsvWriter::new(std::io::BufWriter::new(stdout));
            out.row(CSV_HEADER)?;
            store.for_each_event(&query, &mut |row| {
                let e = &row.event;
                let en = &e.enrichment;
                let body: serde_json::Value = serde_json::from_str(&e.body).unwrap_or_default();
                let props = body
                    .get("properties")
                    .or_else(|| body.get("traits"))
                    .map(|p| p.to_string());
                let o = |s: &Option<String>| s.clone().unwrap_or_default();
                out.row([
                    e.message_id.clone(),
                    e.kind.as_str().to_string(),
                    o(&e.name),
                    o(&e.user_id),
                    o(&e.anonymous_id),
                    o(&e.session_id),
                    spoor_core::time::format_iso(e.timestamp),
                    spoor_core::time::format_iso(e.received_at),
                    o(&e.url),
                    o(&e.referrer),
                    o(&en.ip),
                    o(&en.country),
                    o(&en.region),
                    o(&en.city),
                    o(&en.browser),
                    o(&en.browser_version),
                    o(&en.os),
                    o(&en.os_version),
                    o(&en.device_type),
                    en.is_bot.to_string(),
                    props.unwrap_or_default(),
                    e.body.clone(),
                ])
                .map_err(io)
            })?;
            out.flush()?;
        }
    }
    Ok(())
}
