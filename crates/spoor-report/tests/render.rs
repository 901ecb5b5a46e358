//! Renders a representative report and checks it with poppler's own tools:
//! `pdftoppm` must rasterise every page without a warning, and `pdftotext`
//! must find the text where a reader would.
//!
//! Set `SPOOR_REPORT_PREVIEW_DIR` to keep the PDF and the page images there.

use std::path::{Path, PathBuf};
use std::process::Command;

use spoor_report::{Block, Column, Document, Metric, Series, render};

/// The caller formats table numbers; this is how Spoor writes counts.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && i % 3 == digits.len() % 3 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn representative() -> Document {
    let days: Vec<String> = (1..=31).map(|d| format!("Mar {d}")).collect();
    let visitors: Vec<f64> = (0..31)
        .map(|d| 1800.0 + 600.0 * ((d as f64) / 4.0).sin() + 25.0 * d as f64)
        .collect();
    let sessions: Vec<f64> = visitors.iter().map(|v| v * 1.35).collect();
    let pages: Vec<Vec<String>> = (0..150)
        .map(|i| {
            vec![
                format!("/docs/guides/getting-started/section-{i}"),
                thousands(12_000 - i * 61),
                thousands(7_500 - i * 37),
                format!("{:.1}%", 30.0 + (i % 40) as f64 * 0.9),
            ]
        })
        .collect();
    Document {
        title: "Monthly traffic report".into(),
        subtitle: "example.com · 1–31 March 2025 · compared with February".into(),
        footer: "Spoor · example.com · generated 1 April 2025".into(),
        created: Some("2025-04-01T06:00:00Z".parse().unwrap()),
        blocks: vec![
            Block::Metrics(vec![
                Metric::new("Visitors", "68,214").with_note("+12% vs previous period"),
                Metric::new("Sessions", "92,087").with_note("+9% vs previous period"),
                Metric::new("Bounce rate", "41.3%").with_note("−2.1 pts"),
                Metric::new("Avg. session", "3m 12s").with_note("+8 s"),
            ]),
            Block::Heading("Traffic".into()),
            Block::Paragraph(
                "Visitors grew through the month, with the largest gains on weekdays \
                 after the pricing page was redesigned. Sessions follow visitors closely; \
                 the gap between them is the share of returning visitors."
                    .into(),
            ),
            Block::LineChart {
                title: "Daily visitors and sessions".into(),
                x_labels: days,
                series: vec![
                    Series::new("Visitors", visitors),
                    Series::new("Sessions", sessions),
                ],
            },
            Block::BarChart {
                title: "Top referrers".into(),
                bars: vec![
                    ("google.com".into(), 24_512.0),
                    ("news.ycombinator.com".into(), 9_870.0),
                    ("github.com".into(), 6_204.0),
                    ("duckduckgo.com".into(), 3_115.0),
                    ("t.co".into(), 1_020.0),
                    ("a-very-long-referrer-domain-name.example.org".into(), 412.0),
                ],
                unit: "visits".into(),
            },
            Block::BarChart {
                title: "Campaigns".into(),
                bars: vec![],
                unit: String::new(),
            },
            Block::Heading("Pages".into()),
            Block::Table {
                title: "Top pages".into(),
                columns: vec![
                    Column::left("Page", 5.0),
                    Column::right("Views", 1.2),
                    Column::right("Visitors", 1.2),
                    Column::right("Bounce rate", 1.3),
                ],
                rows: pages,
            },
        ],
    }
}

/// A fresh directory for this run's files: the preview directory if one is
/// asked for, otherwise one under the system's temporary directory.
fn output_dir() -> (PathBuf, bool) {
    if let Some(dir) = std::env::var_os("SPOOR_REPORT_PREVIEW_DIR") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("report") {
                std::fs::remove_file(path).unwrap();
            }
        }
        return (dir, true);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("spoor-report-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    (dir, false)
}

fn run(program: &str, args: &[&str]) -> (String, String) {
    let output = Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!("could not run {program} ({e}): install poppler-utils (apt-get install -y poppler-utils)")
    });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{program} failed: {stderr}");
    (stdout, stderr)
}

fn files_with(dir: &Path, prefix: &str, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(prefix) && name.ends_with(extension)
        })
        .collect();
    files.sort();
    files
}

/// Width and height from a PNG's header chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (width, height)
}

/// Share of pixels darker than paper in a binary PGM (what `pdftoppm -gray`
/// writes).
fn inked_share(pgm: &[u8]) -> f64 {
    // Header: "P5", width, height, maxval, each followed by whitespace.
    let mut fields = 0;
    let mut start = 0;
    let mut in_field = false;
    for (i, b) in pgm.iter().enumerate() {
        if b.is_ascii_whitespace() {
            if in_field {
                fields += 1;
                in_field = false;
                if fields == 4 {
                    start = i + 1;
                    break;
                }
            }
        } else {
            in_field = true;
        }
    }
    let pixels = &pgm[start..];
    let inked = pixels.iter().filter(|&&p| p < 200).count();
    inked as f64 / pixels.len() as f64
}

#[test]
fn poppler_renders_every_page_and_finds_the_text() {
    let (dir, keep) = output_dir();
    let pdf = dir.join("report.pdf");
    std::fs::write(&pdf, render(&representative())).unwrap();
    let pdf_arg = pdf.to_str().unwrap();

    let (text, stderr) = run("pdftotext", &["-layout", pdf_arg, "-"]);
    assert!(stderr.trim().is_empty(), "pdftotext warned: {stderr}");
    let count: usize = text
        .split("Page 1 of ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a 'Page 1 of N' footer");
    // The 150-row table alone needs more than three pages.
    assert!((4..=8).contains(&count), "{count} pages");
    for needle in [
        "Monthly traffic report",
        "1–31 March 2025",
        "Daily visitors and sessions",
        "news.ycombinator.com",
        "No data for this period",
        "Top pages (continued)",
        // The last row, several pages in.
        "/docs/guides/getting-started/section-149",
        "Page 2 of",
        &format!("Page {count} of {count}"),
    ] {
        assert!(
            text.contains(needle),
            "pdftotext output lacks {needle:?}:\n{text}"
        );
    }

    let prefix = dir.join("report");
    let (_, stderr) = run(
        "pdftoppm",
        &["-png", "-r", "50", pdf_arg, prefix.to_str().unwrap()],
    );
    assert!(stderr.trim().is_empty(), "pdftoppm warned: {stderr}");
    let pngs = files_with(&dir, "report", ".png");
    assert_eq!(pngs.len(), count, "{pngs:?}");
    for png in &pngs {
        let bytes = std::fs::read(png).unwrap();
        // A4 at 50 dpi.
        let (width, height) = png_size(&bytes);
        assert!(
            (413..=414).contains(&width) && (584..=585).contains(&height),
            "{}: {width}x{height}",
            png.display()
        );
        assert!(bytes.len() > 4_000, "{} is nearly empty", png.display());
    }

    // Look at the pixels too: every page carries real ink, not just a footer.
    let gray = dir.join("check");
    let (_, stderr) = run(
        "pdftoppm",
        &["-gray", "-r", "50", pdf_arg, gray.to_str().unwrap()],
    );
    assert!(stderr.trim().is_empty(), "pdftoppm warned: {stderr}");
    let pgms = files_with(&dir, "check", ".pgm");
    assert_eq!(pgms.len(), count);
    for pgm in &pgms {
        let share = inked_share(&std::fs::read(pgm).unwrap());
        assert!(
            share > 0.01,
            "{}: only {share:.4} of it is inked",
            pgm.display()
        );
        std::fs::remove_file(pgm).unwrap();
    }

    if !keep {
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn the_same_document_gives_the_same_bytes() {
    let doc = representative();
    let first = render(&doc);
    assert_eq!(first, render(&doc));
    assert!(first.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&first);
    assert!(text.contains("/Producer (Spoor)"));
    assert!(text.contains("/Title (Monthly traffic report)"));
    assert!(
        text.contains("/CreationDate (D:20250401060000Z"),
        "no creation date"
    );
    assert!(text.contains("/BaseFont /Helvetica-Bold"));
    assert!(text.contains("/Encoding /WinAnsiEncoding"));
}
