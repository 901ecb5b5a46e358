//! `spoor widgets` and `spoor billing`.

use anyhow::anyhow;
use spoor_server::metering::report;
use spoor_store::Store;
use spoor_store::metering::{Group, Widget, WidgetChange};

use crate::cli::{BillingFormat, WidgetsCommand};

pub fn widgets(store: &Store, cmd: WidgetsCommand) -> anyhow::Result<()> {
    match cmd {
        WidgetsCommand::Create {
            name,
            project,
            domains,
            demo,
            rate_limit,
        } => {
            let project = store
                .project(&project)
                .map_err(|e| anyhow!("{e}; create it with `spoor projects create {project}`"))?;
            let widget = Widget::new(
                project.id,
                &name,
                &domains,
                demo,
                Some(rate_limit),
                spoor_core::time::now_ms(),
            )
            .map_err(|e| anyhow!(e))?;
            let widget = store.create_widget(&widget)?;
            eprintln!(
                "created widget {:?} in project {}{}",
                widget.name,
                project.name,
                if widget.demo {
                    " (demo: its events are not stored)"
                } else {
                    ""
                }
            );
            println!("{}", widget.id);
        }
        WidgetsCommand::List { project, json } => {
            let project = project.map(|p| store.project(&p)).transpose()?;
            let list = store.widgets(project.map(|p| p.id))?;
            if json {
                println!("{}", serde_json::to_string(&list)?);
                return Ok(());
            }
            println!(
                "{:<36}  {:>7}  {:<8}  {:<5}  {:<24}  domains",
                "id", "project", "active", "demo", "name"
            );
            for w in list {
                println!(
                    "{:<36}  {:>7}  {:<8}  {:<5}  {:<24}  {}",
                    w.id,
                    w.project_id,
                    if w.active { "yes" } else { "no" },
                    if w.demo { "yes" } else { "no" },
                    w.name,
                    if w.domains.is_empty() {
                        "any".to_string()
                    } else {
                        w.domains.join(", ")
                    }
                );
            }
        }
        WidgetsCommand::Activate { id } => set_active(store, &id, true)?,
        WidgetsCommand::Deactivate { id } => set_active(store, &id, false)?,
    }
    Ok(())
}

fn set_active(store: &Store, id: &str, active: bool) -> anyhow::Result<()> {
    let widget = store.update_widget(
        &id.to_ascii_lowercase(),
        &WidgetChange {
            active: Some(active),
            ..WidgetChange::default()
        },
    )?;
    eprintln!(
        "widget {} ({:?}) is {}",
        widget.id,
        widget.name,
        if active { "active" } else { "inactive" }
    );
    Ok(())
}

/// The bill of the month `[from, to)` (ms).
pub fn billing(
    store: &Store,
    (from, to): (i64, i64),
    project: &str,
    widget: Option<&str>,
    format: BillingFormat,
) -> anyhow::Result<()> {
    let project = store.project(project)?;
    let behind = store.max_seq()?
        - store
            .processor_cursor(spoor_store::metering::METERING_PROCESSOR)?
            .map_or(0, |c| c.seq);
    if behind > 0 {
        eprintln!(
            "note: the metering processor has {behind} events of the log still to read; run `spoor serve` (or `spoor rebuild metering`) to bring the figures up to date"
        );
    }
    let report = report(store, &project, from, to, Group::Month, widget)?;
    match format {
        BillingFormat::Csv => print!("{}", report.csv()),
        BillingFormat::Json => println!(
            "{}",
            serde_json::to_string(&report.json(&project, from, to, Group::Month))?
        ),
        BillingFormat::Table => {
            println!(
                "{:<24} {:>7} {:>9} {:>10} {:>8} {:>7} {:>7} {:>7} {:>13} {:>16}",
                "widget",
                "calls",
                "completed",
                "incomplete",
                "inferred",
                "errored",
                "loads",
                "opens",
                "billed min",
                "of which inferred"
            );
            let line = |name: &str, u: &spoor_store::metering::Usage| {
                println!(
                    "{:<24} {:>7} {:>9} {:>10} {:>8} {:>7} {:>7} {:>7} {:>13.2} {:>16.2}",
                    name,
                    u.calls,
                    u.completed,
                    u.incomplete(),
                    u.inferred,
                    u.errored,
                    u.loads,
                    u.opens,
                    u.billed_ms as f64 / 60_000.0,
                    u.inferred_ms as f64 / 60_000.0
                );
            };
            for r in &report.rows {
                let name = report.names.get(&r.widget_id).unwrap_or(&r.widget_id);
                line(name, &r.usage);
            }
            line("total", &report.totals);
        }
    }
    Ok(())
}
