//! A computed [`Report`] as a file: a printable PDF (`spoor-report`), CSV (each
//! table as a block: its title, its header row, its rows, a blank line), or
//! NDJSON (one object per table row, named by `table`, numbers as numbers).

use serde_json::{Map, Value, json};
use spoor_core::csv_export::CsvWriter;
use spoor_report::{Block, Column, Document, Metric, Series};

use super::report::{Report, Section, Table};

pub const FORMATS: [&str; 3] = ["pdf", "csv", "ndjson"];

/// The file's bytes.
pub fn render(report: &Report, format: &str, now: i64) -> Vec<u8> {
    match format {
        "csv" => csv(report),
        "ndjson" => ndjson(report),
        _ => pdf(report, now),
    }
}

pub fn content_type(format: &str) -> &'static str {
    match format {
        "csv" => "text/csv; charset=utf-8",
        "ndjson" => "application/x-ndjson",
        _ => "application/pdf",
    }
}

pub fn extension(format: &str) -> &'static str {
    match format {
        "csv" => "csv",
        "ndjson" => "ndjson",
        _ => "pdf",
    }
}

fn pdf(report: &Report, now: i64) -> Vec<u8> {
    let mut blocks = vec![Block::Metrics(
        report
            .figures
            .iter()
            .map(|(label, value)| Metric::new(label.clone(), value.clone()))
            .collect(),
    )];
    for section in &report.sections {
        match section {
            Section::Text(text) => blocks.push(Block::Paragraph(text.clone())),
            Section::Trend { title, x, series } => blocks.push(Block::LineChart {
                title: title.clone(),
                x_labels: x.clone(),
                series: series
                    .iter()
                    .map(|(name, values)| Series::new(name.clone(), values.clone()))
                    .collect(),
            }),
            Section::Bars { title, bars, unit } => blocks.push(Block::BarChart {
                title: title.clone(),
                bars: bars.clone(),
                unit: unit.clone(),
            }),
            Section::Table(t) => {
                blocks.push(Block::Heading(t.title.clone()));
                blocks.push(Block::Table {
                    title: String::new(),
                    columns: columns(t),
                    rows: t.rows.clone(),
                });
            }
        }
    }
    spoor_report::render(&Document {
        title: report.title.clone(),
        subtitle: report.subtitle.clone(),
        footer: format!("Spoor · {}", report.subtitle),
        created: chrono::DateTime::from_timestamp_millis(now),
        blocks,
    })
}

/// Text columns share the width by how long their cells run; numbers get less.
fn columns(t: &Table) -> Vec<Column> {
    t.columns
        .iter()
        .enumerate()
        .map(|(i, name)| {
            if t.numeric[i] {
                Column::right(name.clone(), 1.0)
            } else {
                let longest = t
                    .rows
                    .iter()
                    .take(50)
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
                    .max(name.len());
                Column::left(name.clone(), (longest as f32 / 8.0).clamp(1.0, 4.0))
            }
        })
        .collect()
}

fn csv_row<'a>(cells: impl IntoIterator<Item = &'a str>, out: &mut CsvWriter<Vec<u8>>) {
    out.row(cells).expect("writing to memory cannot fail");
}

fn csv(report: &Report) -> Vec<u8> {
    let mut out = CsvWriter::new(Vec::new());
    csv_row([report.title.as_str(), report.subtitle.as_str()], &mut out);
    for (label, value) in &report.figures {
        csv_row([label.as_str(), value.as_str()], &mut out);
    }
    for section in &report.sections {
        out.blank_line().expect("writing to memory cannot fail");
        match section {
            Section::Table(t) => {
                csv_row([t.title.as_str()], &mut out);
                csv_row(t.columns.iter().map(String::as_str), &mut out);
                for row in &t.rows {
                    let plain: Vec<String> = row
                        .iter()
                        .enumerate()
                        .map(|(i, c)| {
                            if t.numeric[i] {
                                plain_number(c)
                            } else {
                                c.clone()
                            }
                        })
                        .collect();
                    csv_row(plain.iter().map(String::as_str), &mut out);
                }
            }
            Section::Trend { title, x, series } => {
                csv_row([title.as_str()], &mut out);
                let header: Vec<&str> = std::iter::once("Day")
                    .chain(series.iter().map(|s| s.0.as_str()))
                    .collect();
                csv_row(header, &mut out);
                for (i, day) in x.iter().enumerate() {
                    let values: Vec<String> =
                        series.iter().map(|s| number(s.1[i]).to_string()).collect();
                    csv_row(
                        std::iter::once(day.as_str()).chain(values.iter().map(String::as_str)),
                        &mut out,
                    );
                }
            }
            Section::Bars { title, bars, unit } => {
                csv_row([title.as_str()], &mut out);
                csv_row(["Label", unit.as_str()], &mut out);
                for (label, v) in bars {
                    csv_row([label.as_str(), &number(*v).to_string()], &mut out);
                }
            }
            Section::Text(text) => csv_row([text.as_str()], &mut out),
        }
    }
    out.into_inner().expect("writing to memory cannot fail")
}

/// "1,234" → "1234"; "12.5%" stays as it is (a share, not a count).
fn plain_number(cell: &str) -> String {
    let digits = cell.replace(',', "");
    if digits.parse::<f64>().is_ok() {
        digits
    } else {
        cell.to_string()
    }
}

fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

fn ndjson(report: &Report) -> Vec<u8> {
    let mut out = Vec::new();
    let mut line = |v: Value| {
        serde_json::to_writer(&mut out, &v).expect("JSON to memory");
        out.push(b'\n');
    };
    line(json!({
        "table": "report",
        "title": report.title,
        "subtitle": report.subtitle,
        "figures": report.figures.iter().map(|(k, v)| json!({"label": k, "value": v})).collect::<Vec<_>>(),
    }));
    for section in &report.sections {
        match section {
            Section::Table(t) => {
                for row in &t.rows {
                    let mut o = Map::new();
                    o.insert("table".into(), t.title.clone().into());
                    for (i, cell) in row.iter().enumerate() {
                        let value = if t.numeric[i] {
                            plain_number(cell)
                                .parse::<f64>()
                                .map_or_else(|_| Value::from(cell.clone()), number)
                        } else {
                            Value::from(cell.clone())
                        };
                        o.insert(t.columns[i].clone(), value);
                    }
                    line(Value::Object(o));
                }
            }
            Section::Trend { title, x, series } => {
                for (i, day) in x.iter().enumerate() {
                    let mut o = Map::new();
                    o.insert("table".into(), title.clone().into());
                    o.insert("day".into(), day.clone().into());
                    for (name, values) in series {
                        o.insert(name.clone(), number(values[i]));
                    }
                    line(Value::Object(o));
                }
            }
            Section::Bars { title, bars, unit } => {
                for (label, v) in bars {
                    line(json!({"table": title, "label": label, unit.as_str(): number(*v)}));
                }
            }
            Section::Text(text) => line(json!({"table": "note", "text": text})),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report {
            title: "Friction summary".into(),
            subtitle: "shop · 2026-11-01 to 2026-11-07".into(),
            figures: vec![("Rage clicks".into(), "1,204 in 31 sessions".into())],
            sections: vec![Section::Table(Table {
                title: "Pages".into(),
                columns: vec!["Page".into(), "Count".into(), "Share".into()],
                numeric: vec![false, true, true],
                rows: vec![
                    vec!["/a,b".into(), "1,204".into(), "12.5%".into()],
                    vec!["=HYPERLINK(1)".into(), "7".into(), "-".into()],
                ],
            })],
        }
    }

    #[test]
    fn csv_quotes_commas_and_defuses_formulas() {
        let text = String::from_utf8(csv(&sample())).unwrap();
        assert!(
            text.contains("Pages\r\nPage,Count,Share\r\n\"/a,b\",1204,12.5%\r\n"),
            "{text}"
        );
        assert!(text.contains("'=HYPERLINK(1),7,-"), "{text}");
    }

    #[test]
    fn ndjson_rows_name_their_table_and_keep_numbers() {
        let text = String::from_utf8(ndjson(&sample())).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["title"], "Friction summary");
        assert_eq!(
            lines[1],
            json!({"table": "Pages", "Page": "/a,b", "Count": 1204, "Share": "12.5%"})
        );
    }

    #[test]
    fn pdf_is_a_pdf() {
        let bytes = render(&sample(), "pdf", 1_700_000_000_000);
        assert!(bytes.starts_with(b"%PDF-"));
    }
}
