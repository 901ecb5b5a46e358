//! Writes sample reports for a person to look at, and times rendering.
//!
//! `cargo run --release -p spoor-report --example sample -- DIR` writes
//! `DIR/edge-cases.pdf` (long labels, many points, negative and huge values,
//! empty data) and `DIR/large-table.pdf` (about twenty pages of table), then
//! prints how long the large one takes to render, best of several runs.

use std::time::{Duration, Instant};

use spoor_report::{Block, Column, Document, Metric, Series, render};

fn edge_cases() -> Document {
    let long = "an-unusually-long-campaign-name-that-will-not-fit-in-any-label";
    let days: Vec<String> = [("Jan", 31), ("Feb", 28), ("Mar", 31)]
        .iter()
        .flat_map(|&(month, length)| (1..=length).map(move |d| format!("{month} {d}")))
        .collect();
    Document {
        title: "Quarterly report for a customer whose organisation name is long enough to wrap"
            .into(),
        subtitle: "shop.example.de · Q1 2025 · Zürich, Köln & Genève — “all regions”".into(),
        footer: "Spoor · shop.example.de · confidential".into(),
        created: None,
        blocks: vec![
            Block::Metrics(vec![
                Metric::new("Revenue", "€1,204,332").with_note("+4.2% vs Q4"),
                Metric::new("Orders", "18,220").with_note("−1.3% vs Q4"),
                Metric::new("Conversion", "2.91%"),
                Metric::new("Average order value", "€66.10").with_note("+€3.20"),
                Metric::new(long, "1,234,567,890,123,456").with_note(long),
            ]),
            Block::Heading("Trends".into()),
            Block::LineChart {
                title: "Daily revenue over ninety days, with a title long enough to push the legend down"
                    .into(),
                x_labels: days.clone(),
                series: vec![
                    Series::new(
                        "Revenue",
                        (0..90)
                            .map(|d| {
                                if (40..44).contains(&d) {
                                    f64::NAN
                                } else {
                                    12_000.0 + 4_000.0 * (d as f64 / 9.0).sin() + 90.0 * d as f64
                                }
                            })
                            .collect(),
                    ),
                    Series::new("Refunds", (0..90).map(|d| 800.0 + 10.0 * d as f64).collect()),
                ],
            },
            Block::LineChart {
                title: "Net change".into(),
                x_labels: vec!["Jan".into(), "Feb".into(), "Mar".into(), "Apr".into()],
                series: vec![Series::new("Net", vec![-3.5, 1.25, -0.5, 2.0])],
            },
            Block::LineChart {
                title: "One day only".into(),
                x_labels: vec!["2025-03-31".into()],
                series: vec![Series::new("Visitors", vec![2_400_000.0])],
            },
            Block::LineChart {
                title: "Errors".into(),
                x_labels: days,
                series: vec![Series::new("Errors", vec![f64::NAN; 90])],
            },
            Block::BarChart {
                title: "Campaigns".into(),
                bars: (0..60)
                    .map(|i| {
                        let name = if i % 7 == 0 { long.to_owned() } else { format!("campaign-{i}") };
                        (name, 1_000_000.0 / (i as f64 + 1.0))
                    })
                    .collect(),
                unit: "%".into(),
            },
            Block::Paragraph(
                "A paragraph with a very long unbroken token: \
                 https://example.com/a/very/long/path/that/goes/on/and/on/and/on/without/any/spaces/at/all/so/it/must/be/broken/between/characters \
                 and some Unicode the base fonts cannot show: 日本語, emoji 😀, Polish Ł."
                    .into(),
            ),
            Block::PageBreak,
            Block::Table {
                title: "Empty table".into(),
                columns: vec![Column::left("Name", 1.0)],
                rows: vec![],
            },
            Block::Table {
                title: String::new(),
                columns: vec![
                    Column::left(long, 1.0),
                    Column::right("Right-aligned header that is too long", 1.0),
                ],
                rows: vec![
                    vec![long.into(), "1,234,567,890,123,456,789,012".into()],
                    vec!["short".into()],
                ],
            },
        ],
    }
}

fn large_table() -> Document {
    let rows: Vec<Vec<String>> = (0..850)
        .map(|i| {
            vec![
                format!("/products/category-{}/item-{i}", i % 17),
                format!("{},{:03}", 40 - i / 25, i % 1000),
                format!("{}", 9_000 - i),
                format!("{:.1}%", (i % 100) as f64 * 0.7),
                format!("{}m {:02}s", i % 7, i % 60),
            ]
        })
        .collect();
    Document {
        title: "All pages".into(),
        subtitle: "example.com · March 2025".into(),
        footer: "Spoor · example.com".into(),
        created: None,
        blocks: vec![Block::Table {
            title: "Pages".into(),
            columns: vec![
                Column::left("Page", 4.0),
                Column::right("Views", 1.0),
                Column::right("Visitors", 1.0),
                Column::right("Bounce", 1.0),
                Column::right("Time", 1.0),
            ],
            rows,
        }],
    }
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    std::fs::create_dir_all(&dir).expect("create the output directory");
    std::fs::write(format!("{dir}/edge-cases.pdf"), render(&edge_cases())).expect("write");

    let doc = large_table();
    let bytes = render(&doc);
    std::fs::write(format!("{dir}/large-table.pdf"), &bytes).expect("write");
    let mut best = Duration::MAX;
    for _ in 0..20 {
        let start = Instant::now();
        let bytes = render(&doc);
        best = best.min(start.elapsed());
        std::hint::black_box(bytes);
    }
    println!(
        "large-table.pdf: {} bytes, best of 20 renders {:.2} ms",
        bytes.len(),
        best.as_secs_f64() * 1000.0
    );
}
