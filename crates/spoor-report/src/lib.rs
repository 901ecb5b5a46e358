//! Printed reports for Spoor: a small document model (a title, then headings,
//! paragraphs, KPI tiles, bar and line charts and tables) and [`render`], a
//! pure function from it to the bytes of an A4 PDF.
//!
//! The PDF uses the base-14 fonts Helvetica and Helvetica-Bold, which every
//! reader has, so nothing is embedded and files stay small; text is limited to
//! what WinAnsiEncoding can show (Western European scripts and common
//! punctuation), and other characters print as `?`. Charts are vector
//! graphics in a palette that survives grayscale printing.
//!
//! Numbers in tables and tiles are strings the caller has formatted; chart
//! values are numbers, and the charts choose round axis ticks themselves.

mod axis;
mod canvas;
mod charts;
mod encoding;
mod layout;
mod metrics;
mod pdf;
mod text;

/// A report: the title and subtitle open the first page, and the footer text
/// is printed at the bottom of every page next to "Page N of M".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document {
    pub title: String,
    pub subtitle: String,
    pub footer: String,
    /// Recorded as the PDF's creation date. Rendering never reads the clock,
    /// so the same document always gives the same bytes.
    pub created: Option<chrono::DateTime<chrono::Utc>>,
    pub blocks: Vec<Block>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// A section heading; it is never left alone at the bottom of a page.
    Heading(String),
    /// Running text, wrapped to the page; `\n` starts a new line.
    Paragraph(String),
    /// KPI tiles side by side, up to four to a row.
    Metrics(Vec<Metric>),
    /// Horizontal bars, labels on the left and each value at its bar's end.
    /// `unit` follows the value ("12 ms", or "12%" for `%`).
    BarChart {
        title: String,
        bars: Vec<(String, f64)>,
        unit: String,
    },
    /// Lines over categories (usually dates): one point per x label for each
    /// series. A non-finite value leaves a gap in its line.
    LineChart {
        title: String,
        x_labels: Vec<String>,
        series: Vec<Series>,
    },
    /// A table of preformatted cells; it continues across pages with its
    /// header row repeated.
    Table {
        title: String,
        columns: Vec<Column>,
        rows: Vec<Vec<String>>,
    },
    /// Starts a new page, unless the current one is still empty.
    PageBreak,
}

/// One KPI tile.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    pub label: String,
    pub value: String,
    /// A line under the value, such as "+12% vs previous period".
    pub note: Option<String>,
}

impl Metric {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Metric {
        Metric {
            label: label.into(),
            value: value.into(),
            note: None,
        }
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Metric {
        self.note = Some(note.into());
        self
    }
}

/// One line of a line chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

impl Series {
    pub fn new(name: impl Into<String>, values: Vec<f64>) -> Series {
        Series {
            name: name.into(),
            values,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub align: Align,
    /// Share of the table's width, relative to the other columns' weights.
    pub weight: f32,
}

impl Column {
    pub fn left(name: impl Into<String>, weight: f32) -> Column {
        Column {
            name: name.into(),
            align: Align::Left,
            weight,
        }
    }

    /// A column of numbers: right-aligned so the digits line up.
    pub fn right(name: impl Into<String>, weight: f32) -> Column {
        Column {
            name: name.into(),
            align: Align::Right,
            weight,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// The document as PDF bytes.
pub fn render(doc: &Document) -> Vec<u8> {
    pdf::write(doc, &layout::layout(doc))
}
