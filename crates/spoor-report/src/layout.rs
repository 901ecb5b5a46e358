//! Pagination: flows a document's blocks down A4 pages and returns every page's
//! drawing operations, footers included.
//!
//! The rules a printed report needs: charts and KPI rows are never split (they
//! move to the next page whole), tables continue on the next page under a
//! repeated header, headings stay with what follows them, and a paragraph does
//! not leave a single line behind. Footers say "Page N of M", so they are added
//! once every page exists.

use crate::canvas::{ACCENT, INK, MUTED, Page, RULE, SHADE, Style};
use crate::charts;
use crate::metrics::Font;
use crate::text::{fit, wrap};
use crate::{Align, Block, Column, Document, Metric};

/// A4 in points.
pub(crate) const PAGE_WIDTH: f32 = 595.276;
pub(crate) const PAGE_HEIGHT: f32 = 841.89;
pub(crate) const MARGIN: f32 = 48.0;
const CONTENT_TOP: f32 = PAGE_HEIGHT - MARGIN;
/// Content stops here; the footer sits below.
pub(crate) const CONTENT_BOTTOM: f32 = 72.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const FOOTER_RULE: f32 = 58.0;
const FOOTER_BASELINE: f32 = 46.0;

const TITLE: Style = Style::new(Font::Bold, 20.0, INK);
const TITLE_LEADING: f32 = 25.0;
const SUBTITLE: Style = Style::new(Font::Regular, 10.5, MUTED);
const SUBTITLE_LEADING: f32 = 14.5;
const HEADING: Style = Style::new(Font::Bold, 13.0, INK);
const HEADING_LEADING: f32 = 17.0;
const PARAGRAPH: Style = Style::new(Font::Regular, 10.0, INK);
const PARAGRAPH_LEADING: f32 = 14.5;
const FOOTER: Style = Style::new(Font::Regular, 8.0, MUTED);

/// Space between blocks, before a heading, and between a heading and its
/// block.
const BLOCK_GAP: f32 = 16.0;
const HEADING_GAP: f32 = 24.0;
const AFTER_HEADING: f32 = 8.0;

const TILES_PER_ROW: usize = 4;
const TILE_GAP: f32 = 10.0;
const TILE_HEIGHT: f32 = 58.0;
const TILE_HEIGHT_NO_NOTES: f32 = 46.0;
const TILE_LABEL: Style = Style::new(Font::Regular, 8.0, MUTED);
const TILE_VALUE: Style = Style::new(Font::Bold, 17.0, INK);
const TILE_NOTE: Style = Style::new(Font::Regular, 8.0, MUTED);

const HEADER_HEIGHT: f32 = 20.0;
const ROW_HEIGHT: f32 = 17.0;
const CELL_PADDING: f32 = 6.0;
const HEADER_CELL: Style = Style::new(Font::Bold, 8.5, INK);
const CELL: Style = Style::new(Font::Regular, 8.5, INK);
/// A table starts only where its header and this many rows fit.
const TABLE_MIN_ROWS: usize = 3;

/// The tallest a chart may be: a full page less room for a heading above it,
/// so a heading and its chart always fit together on a fresh page.
const CHART_MAX_HEIGHT: f32 = CONTENT_TOP - CONTENT_BOTTOM - 60.0;

/// Lays `doc` out and returns its pages, never fewer than one.
pub(crate) fn layout(doc: &Document) -> Vec<Page> {
    let mut flow = Flow::new();
    title_block(&mut flow, doc);
    // A break takes effect when something follows it, so trailing or
    // repeated breaks do not make blank pages.
    let mut break_pending = false;
    for (i, block) in doc.blocks.iter().enumerate() {
        if matches!(block, Block::PageBreak) {
            break_pending = true;
            continue;
        }
        if std::mem::take(&mut break_pending) && !flow.empty {
            flow.break_page();
        }
        let gap = match (i.checked_sub(1).map(|p| &doc.blocks[p]), block) {
            (Some(Block::Heading(_)), _) => AFTER_HEADING,
            (_, Block::Heading(_)) => HEADING_GAP,
            _ => BLOCK_GAP,
        };
        let lead = lead_height(&doc.blocks[i..]);
        match block {
            Block::Heading(text) => heading(&mut flow, gap, lead, text),
            Block::Paragraph(text) => paragraph(&mut flow, gap, text),
            Block::Metrics(metrics) => metric_rows(&mut flow, gap, metrics),
            Block::BarChart { title, bars, unit } => {
                flow.start(gap, lead);
                let shown = charts::bars_that_fit(title, bars.len(), CHART_MAX_HEIGHT);
                let at = (MARGIN, flow.y, CONTENT_WIDTH);
                let used = charts::bar_chart(
                    flow.page(),
                    at,
                    title,
                    &bars[..shown],
                    bars.len() - shown,
                    unit,
                );
                flow.y -= used;
            }
            Block::LineChart {
                title,
                x_labels,
                series,
            } => {
                flow.start(gap, lead);
                let at = (MARGIN, flow.y, CONTENT_WIDTH);
                flow.y -= charts::line_chart(flow.page(), at, title, x_labels, series);
            }
            Block::Table {
                title,
                columns,
                rows,
            } => table(&mut flow, gap, lead, title, columns, rows),
            Block::PageBreak => {}
        }
    }
    let mut pages = flow.pages;
    footers(&mut pages, &doc.footer);
    pages
}

/// Where the next block goes.
struct Flow {
    pages: Vec<Page>,
    /// The top of the free space on the last page.
    y: f32,
    /// Nothing is on the last page yet, so moving on would not help.
    empty: bool,
    /// The last page's content starts here, so no gap goes above it.
    at_top: bool,
}

impl Flow {
    fn new() -> Flow {
        Flow {
            pages: vec![Page::default()],
            y: CONTENT_TOP,
            empty: true,
            at_top: true,
        }
    }

    fn page(&mut self) -> &mut Page {
        self.pages.last_mut().expect("a flow always has a page")
    }

    fn room(&self) -> f32 {
        self.y - CONTENT_BOTTOM
    }

    fn break_page(&mut self) {
        self.pages.push(Page::default());
        self.y = CONTENT_TOP;
        self.empty = true;
        self.at_top = true;
    }

    /// Begins a block whose first unbreakable part is `height` tall, after
    /// `gap` (dropped at the top of a page): on the next page if it does not
    /// fit here.
    fn start(&mut self, gap: f32, height: f32) {
        if !self.empty && gap + height > self.room() {
            self.break_page();
        }
        if !self.at_top {
            self.y -= gap;
        }
        self.placed();
    }

    /// Continues a block with a part `height` tall, on a new page if needed.
    /// Returns whether it moved.
    fn next_part(&mut self, height: f32) -> bool {
        let moved = height > self.room() && !self.empty;
        if moved {
            self.break_page();
        }
        self.placed();
        moved
    }

    fn placed(&mut self) {
        self.empty = false;
        self.at_top = false;
    }
}

fn title_block(flow: &mut Flow, doc: &Document) {
    if doc.title.is_empty() && doc.subtitle.is_empty() {
        return;
    }
    let page = flow.pages.last_mut().expect("a flow always has a page");
    let mut y = CONTENT_TOP;
    if !doc.title.is_empty() {
        for line in wrap(&doc.title, TITLE.font, TITLE.size, CONTENT_WIDTH) {
            page.text(MARGIN, y - 17.0, TITLE, line);
            y -= TITLE_LEADING;
        }
        y -= 2.0;
    }
    if !doc.subtitle.is_empty() {
        for line in wrap(&doc.subtitle, SUBTITLE.font, SUBTITLE.size, CONTENT_WIDTH) {
            page.text(MARGIN, y - 10.5, SUBTITLE, line);
            y -= SUBTITLE_LEADING;
        }
    }
    y -= 10.0;
    page.fill(MARGIN, y - 1.5, CONTENT_WIDTH, 1.5, ACCENT);
    flow.y = y - 22.0;
    flow.empty = false;
    // The rule already separates the title; a gap on top would double it.
    flow.at_top = true;
}

/// The height that must fit for `blocks[0]` to start where it is, not
/// counting its gap. A heading needs the start of the block after it too, and
/// a run of headings all of them; the run is only followed as far as a page,
/// since no more than that can be kept together.
fn lead_height(blocks: &[Block]) -> f32 {
    let mut total = 0.0;
    for (i, block) in blocks.iter().enumerate() {
        let Block::Heading(text) = block else {
            return total + first_part_height(block);
        };
        total += heading_lines(text).len() as f32 * HEADING_LEADING;
        match blocks.get(i + 1) {
            None | Some(Block::PageBreak) => return total,
            Some(_) => total += AFTER_HEADING,
        }
        if total > CONTENT_TOP - CONTENT_BOTTOM {
            return total;
        }
    }
    total
}

/// The height of the part of a block that cannot be split.
fn first_part_height(block: &Block) -> f32 {
    match block {
        Block::Heading(text) => heading_lines(text).len() as f32 * HEADING_LEADING,
        Block::Paragraph(text) => {
            paragraph_lead_lines(paragraph_lines(text).len()) as f32 * PARAGRAPH_LEADING
        }
        Block::Metrics(metrics) => {
            let rows = tile_rows(metrics);
            match rows.first() {
                Some(row) => tile_height(row),
                None => charts::no_data_height(),
            }
        }
        Block::BarChart { title, bars, .. } => {
            let shown = charts::bars_that_fit(title, bars.len(), CHART_MAX_HEIGHT);
            charts::bar_chart_height(title, shown, bars.len() - shown)
        }
        Block::LineChart {
            title,
            x_labels,
            series,
        } => charts::line_chart_height(title, x_labels, series, CONTENT_WIDTH),
        Block::Table {
            title,
            columns,
            rows,
        } => {
            let head = charts::title_height(title);
            if rows.is_empty() || columns.is_empty() {
                head + charts::no_data_height()
            } else {
                head + HEADER_HEIGHT + rows.len().min(TABLE_MIN_ROWS) as f32 * ROW_HEIGHT
            }
        }
        Block::PageBreak => 0.0,
    }
}

fn heading_lines(text: &str) -> Vec<String> {
    wrap(text, HEADING.font, HEADING.size, CONTENT_WIDTH)
}

fn heading(flow: &mut Flow, gap: f32, lead: f32, text: &str) {
    flow.start(gap, lead);
    for line in heading_lines(text) {
        let y = flow.y;
        flow.page().text(MARGIN, y - 12.5, HEADING, line);
        flow.y -= HEADING_LEADING;
    }
}

fn paragraph_lines(text: &str) -> Vec<String> {
    wrap(text, PARAGRAPH.font, PARAGRAPH.size, CONTENT_WIDTH)
}

/// How many of a paragraph's `rest` lines to set where `fits` lines fit: all
/// of them if they fit, otherwise never leaving a single line alone at the
/// bottom of this page or the top of the next. Zero means none go here.
fn lines_to_set(rest: usize, fits: usize) -> usize {
    if rest <= fits {
        return rest;
    }
    let take = if rest - fits == 1 {
        fits.saturating_sub(1)
    } else {
        fits
    };
    if take < 2 { 0 } else { take }
}

/// The fewest lines a paragraph of `count` lines can start with.
fn paragraph_lead_lines(count: usize) -> usize {
    (1..count)
        .find(|&k| lines_to_set(count, k) > 0)
        .unwrap_or(count)
}

fn lines_that_fit(room: f32) -> usize {
    // The epsilon absorbs rounding in a sum of leadings.
    ((room + 0.01) / PARAGRAPH_LEADING).floor().max(0.0) as usize
}

fn paragraph(flow: &mut Flow, gap: f32, text: &str) {
    let lines = paragraph_lines(text);
    let room_here = flow.room() - if flow.at_top { 0.0 } else { gap };
    let first = lines_to_set(lines.len(), lines_that_fit(room_here));
    let need = if first > 0 {
        first as f32 * PARAGRAPH_LEADING
    } else {
        f32::INFINITY
    };
    flow.start(gap, need);
    let mut rest = &lines[..];
    loop {
        let fits = lines_that_fit(flow.room());
        let mut take = lines_to_set(rest.len(), fits);
        if take == 0 {
            // Only on a page too short for two lines: progress beats rules.
            take = rest.len().min(fits.max(1));
        }
        for line in &rest[..take] {
            let y = flow.y;
            flow.page().text(MARGIN, y - 10.5, PARAGRAPH, line.as_str());
            flow.y -= PARAGRAPH_LEADING;
        }
        rest = &rest[take..];
        if rest.is_empty() {
            break;
        }
        flow.break_page();
        flow.placed();
    }
}

/// The tiles split into rows of at most four, as even as possible: five make
/// three and two, not four and one.
fn tile_rows(metrics: &[Metric]) -> Vec<&[Metric]> {
    if metrics.is_empty() {
        return Vec::new();
    }
    let rows = metrics.len().div_ceil(TILES_PER_ROW);
    metrics.chunks(metrics.len().div_ceil(rows)).collect()
}

fn tile_height(row: &[Metric]) -> f32 {
    if row
        .iter()
        .any(|m| m.note.as_deref().is_some_and(|n| !n.is_empty()))
    {
        TILE_HEIGHT
    } else {
        TILE_HEIGHT_NO_NOTES
    }
}

fn metric_rows(flow: &mut Flow, gap: f32, metrics: &[Metric]) {
    let rows = tile_rows(metrics);
    if rows.is_empty() {
        flow.start(gap, charts::no_data_height());
        let y = flow.y;
        flow.y -= charts::no_data(flow.page(), MARGIN, y, CONTENT_WIDTH);
        return;
    }
    let per_row = rows[0].len();
    let width = (CONTENT_WIDTH - TILE_GAP * (per_row - 1) as f32) / per_row as f32;
    for (r, row) in rows.iter().enumerate() {
        let height = tile_height(row);
        if r == 0 {
            flow.start(gap, height);
        } else {
            flow.y -= TILE_GAP;
            flow.next_part(height);
        }
        let top = flow.y;
        for (i, metric) in row.iter().enumerate() {
            let x = MARGIN + i as f32 * (width + TILE_GAP);
            tile(flow.page(), x, top, width, height, metric);
        }
        flow.y -= height;
    }
}

fn tile(page: &mut Page, x: f32, top: f32, width: f32, height: f32, metric: &Metric) {
    page.fill(x, top - height, width, height, SHADE);
    page.fill(x, top - height, 3.0, height, ACCENT);
    let left = x + 12.0;
    let room = width - 12.0 - 8.0;
    let fitted = |style: Style, text: &str| fit(text, style.font, style.size, room).into_owned();
    page.text(
        left,
        top - 15.0,
        TILE_LABEL,
        fitted(TILE_LABEL, &metric.label),
    );
    page.text(
        left,
        top - 35.0,
        TILE_VALUE,
        fitted(TILE_VALUE, &metric.value),
    );
    if let Some(note) = &metric.note {
        page.text(left, top - 49.0, TILE_NOTE, fitted(TILE_NOTE, note));
    }
}

/// Each column's left edge and width. Weights that are not positive count as
/// one, so a mistake in them cannot hide a column.
fn column_spans(columns: &[Column]) -> Vec<(f32, f32)> {
    let weight = |c: &Column| {
        if c.weight.is_finite() && c.weight > 0.0 {
            c.weight
        } else {
            1.0
        }
    };
    let total: f32 = columns.iter().map(weight).sum();
    let mut x = MARGIN;
    columns
        .iter()
        .map(|c| {
            let w = CONTENT_WIDTH * weight(c) / total;
            let span = (x, w);
            x += w;
            span
        })
        .collect()
}

fn cell(
    page: &mut Page,
    (x, w): (f32, f32),
    baseline: f32,
    style: Style,
    align: Align,
    text: &str,
) {
    let text = fit(text, style.font, style.size, w - 2.0 * CELL_PADDING);
    match align {
        Align::Left => page.text(x + CELL_PADDING, baseline, style, text),
        Align::Right => page.text_right(x + w - CELL_PADDING, baseline, style, text),
    }
}

fn table(
    flow: &mut Flow,
    gap: f32,
    lead: f32,
    title: &str,
    columns: &[Column],
    rows: &[Vec<String>],
) {
    flow.start(gap, lead);
    if rows.is_empty() || columns.is_empty() {
        let y = flow.y;
        let used = charts::title(flow.page(), MARGIN, y, CONTENT_WIDTH, title);
        let y = y - used;
        flow.y = y - charts::no_data(flow.page(), MARGIN, y, CONTENT_WIDTH);
        return;
    }
    let spans = column_spans(columns);
    let header = |flow: &mut Flow, continued: bool| {
        let mut y = flow.y;
        let title = if continued && !title.is_empty() {
            format!("{title} (continued)")
        } else {
            title.to_owned()
        };
        let page = flow.page();
        y -= charts::title(page, MARGIN, y, CONTENT_WIDTH, &title);
        let baseline = y - HEADER_HEIGHT / 2.0 - 3.0;
        for (column, span) in columns.iter().zip(&spans) {
            cell(
                page,
                *span,
                baseline,
                HEADER_CELL,
                column.align,
                &column.name,
            );
        }
        y -= HEADER_HEIGHT;
        page.line((MARGIN, y), (MARGIN + CONTENT_WIDTH, y), 0.9, MUTED);
        flow.y = y;
    };
    header(flow, false);
    for (i, row) in rows.iter().enumerate() {
        if flow.next_part(ROW_HEIGHT) {
            header(flow, true);
        }
        let top = flow.y;
        let page = flow.page();
        if i % 2 == 1 {
            page.fill(MARGIN, top - ROW_HEIGHT, CONTENT_WIDTH, ROW_HEIGHT, SHADE);
        }
        let baseline = top - ROW_HEIGHT / 2.0 - 3.0;
        for ((column, span), text) in columns.iter().zip(&spans).zip(row) {
            cell(page, *span, baseline, CELL, column.align, text);
        }
        flow.y -= ROW_HEIGHT;
        // Close each page's part of the table, and the table itself.
        let last_here = i + 1 == rows.len() || flow.room() < ROW_HEIGHT;
        if last_here {
            let y = flow.y;
            flow.page()
                .line((MARGIN, y), (MARGIN + CONTENT_WIDTH, y), 0.5, RULE);
        }
    }
}

fn footers(pages: &mut [Page], footer: &str) {
    let count = pages.len();
    let right = MARGIN + CONTENT_WIDTH;
    for (i, page) in pages.iter_mut().enumerate() {
        let number = format!("Page {} of {count}", i + 1);
        let room = CONTENT_WIDTH - FOOTER.width(&number) - 24.0;
        page.line((MARGIN, FOOTER_RULE), (right, FOOTER_RULE), 0.5, RULE);
        page.text(
            MARGIN,
            FOOTER_BASELINE,
            FOOTER,
            fit(footer, FOOTER.font, FOOTER.size, room),
        );
        page.text_right(right, FOOTER_BASELINE, FOOTER, number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canvas::Op;
    use crate::text::text_width;
    use crate::{Block, Column, Metric, Series};

    fn doc(blocks: Vec<Block>) -> Document {
        Document {
            title: "Monthly report".into(),
            subtitle: "example.com · March 2025".into(),
            footer: "Spoor analytics".into(),
            created: None,
            blocks,
        }
    }

    fn long_table(rows: usize) -> Block {
        Block::Table {
            title: "Top pages".into(),
            columns: vec![
                Column::left("Page", 4.0),
                Column::right("Views", 1.0),
                Column::right("Visitors", 1.0),
            ],
            rows: (0..rows)
                .map(|i| {
                    vec![
                        format!("/page/{i}"),
                        format!("{}", 1000 - i),
                        format!("{i}"),
                    ]
                })
                .collect(),
        }
    }

    fn page_of(pages: &[Page], needle: &str) -> Vec<usize> {
        pages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.texts().any(|t| t == needle))
            .map(|(i, _)| i)
            .collect()
    }

    fn filler(lines: usize) -> Block {
        Block::Paragraph(vec!["Filler line."; lines].join("\n"))
    }

    #[test]
    fn a_long_table_continues_under_a_repeated_header() {
        let pages = layout(&doc(vec![long_table(200)]));
        assert!(pages.len() >= 5, "{} pages", pages.len());
        let count = pages.len();
        for (i, page) in pages.iter().enumerate() {
            let texts: Vec<&str> = page.texts().collect();
            for header in ["Page", "Views", "Visitors"] {
                assert!(
                    texts.contains(&header),
                    "page {} lacks the {header} header",
                    i + 1
                );
            }
            let footer = format!("Page {} of {count}", i + 1);
            assert!(
                texts.contains(&footer.as_str()),
                "page {} lacks {footer}",
                i + 1
            );
            let title = if i == 0 {
                "Top pages"
            } else {
                "Top pages (continued)"
            };
            assert!(texts.contains(&title), "page {}", i + 1);
        }
        assert_eq!(page_of(&pages, &format!("Page 3 of {count}")), vec![2]);
        // Every row exactly once, in order.
        let rows: Vec<&str> = pages
            .iter()
            .flat_map(|p| p.texts())
            .filter(|t| t.starts_with("/page/"))
            .collect();
        let expected: Vec<String> = (0..200).map(|i| format!("/page/{i}")).collect();
        assert_eq!(rows, expected);
        assert_above_footer(&pages);
    }

    #[test]
    fn page_numbers_count_all_pages() {
        // Five pages exactly: each break forces the next.
        let mut blocks = vec![Block::Paragraph("One".into())];
        for n in ["Two", "Three", "Four", "Five"] {
            blocks.push(Block::PageBreak);
            blocks.push(Block::Paragraph(n.into()));
        }
        let pages = layout(&doc(blocks));
        assert_eq!(pages.len(), 5);
        assert_eq!(page_of(&pages, "Page 3 of 5"), vec![2]);
        assert_eq!(page_of(&pages, "Three"), vec![2]);
    }

    #[test]
    fn page_breaks_do_not_make_blank_pages() {
        let blocks = vec![
            Block::Paragraph("One".into()),
            Block::PageBreak,
            Block::PageBreak,
            Block::Paragraph("Two".into()),
            Block::PageBreak,
        ];
        assert_eq!(layout(&doc(blocks)).len(), 2);
        assert_eq!(layout(&Document::default()).len(), 1);
    }

    #[test]
    fn zebra_shading_alternates_and_a_rule_sits_under_the_header() {
        let pages = layout(&doc(vec![long_table(6)]));
        let shaded = pages[0]
            .ops
            .iter()
            .filter(|op| matches!(op, Op::Fill { h, .. } if *h == ROW_HEIGHT))
            .count();
        assert_eq!(shaded, 3);
        let header_rules = pages[0]
            .ops
            .iter()
            .filter(|op| matches!(op, Op::Stroke { width, .. } if *width == 0.9))
            .count();
        assert_eq!(header_rules, 1);
    }

    /// The page index of every text of a block, found by its texts.
    fn pages_with_any(pages: &[Page], needles: &[&str]) -> Vec<usize> {
        let mut found: Vec<usize> = needles.iter().flat_map(|n| page_of(pages, n)).collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Nothing but the footer is drawn below the content area, so a block
    /// that stayed on one page did so by moving, not by running over.
    fn assert_above_footer(pages: &[Page]) {
        for (n, page) in pages.iter().enumerate() {
            for op in &page.ops {
                let bottom = match op {
                    Op::Text { y, .. } | Op::Fill { y, .. } => *y,
                    Op::Stroke { points, .. } => {
                        points.iter().map(|p| p.1).fold(f32::MAX, f32::min)
                    }
                    Op::Dot { y, radius, .. } => y - radius,
                };
                let footer = bottom <= FOOTER_RULE + 0.01;
                assert!(
                    footer || bottom >= CONTENT_BOTTOM - 0.01,
                    "page {}: {op:?}",
                    n + 1
                );
            }
        }
    }

    #[test]
    fn a_chart_that_does_not_fit_moves_to_the_next_page_whole() {
        let chart = Block::BarChart {
            title: "Sources".into(),
            bars: (0..12)
                .map(|i| (format!("source-{i}"), f64::from(i) * 10.0))
                .collect(),
            unit: String::new(),
        };
        for lines in (30..46).step_by(3) {
            let pages = layout(&doc(vec![filler(lines), chart.clone()]));
            let labels: Vec<String> = (0..12).map(|i| format!("source-{i}")).collect();
            let mut needles: Vec<&str> = labels.iter().map(String::as_str).collect();
            needles.push("Sources");
            let on = pages_with_any(&pages, &needles);
            assert_eq!(on.len(), 1, "{lines} filler lines: chart on pages {on:?}");
            assert_above_footer(&pages);
        }
    }

    #[test]
    fn a_line_chart_and_a_metrics_row_are_never_split() {
        let line = Block::LineChart {
            title: "Visitors".into(),
            x_labels: (1..=30).map(|d| format!("Mar {d}")).collect(),
            series: vec![Series::new("Visitors", (0..30).map(f64::from).collect())],
        };
        let tiles = Block::Metrics(vec![
            Metric::new("Sessions", "12,345").with_note("+4%"),
            Metric::new("Pageviews", "45,678"),
        ]);
        for lines in (20..50).step_by(2) {
            let pages = layout(&doc(vec![filler(lines), line.clone(), tiles.clone()]));
            let chart_pages = pages_with_any(&pages, &["Visitors", "Mar 1"]);
            assert_eq!(chart_pages.len(), 1, "{lines}: {chart_pages:?}");
            let tile_pages = pages_with_any(&pages, &["12,345", "Pageviews", "+4%"]);
            assert_eq!(tile_pages.len(), 1, "{lines}: {tile_pages:?}");
            assert_above_footer(&pages);
        }
    }

    #[test]
    fn a_heading_stays_with_what_follows() {
        for lines in 30..48 {
            let blocks = vec![
                filler(lines),
                Block::Heading("Traffic sources".into()),
                Block::BarChart {
                    title: "Referrers".into(),
                    bars: vec![("google.com".into(), 10.0), ("bing.com".into(), 3.0)],
                    unit: "visits".into(),
                },
                Block::Heading("Pages".into()),
                long_table(40),
            ];
            let pages = layout(&doc(blocks));
            assert_eq!(
                page_of(&pages, "Traffic sources"),
                page_of(&pages, "Referrers"),
                "{lines} filler lines"
            );
            assert_eq!(
                page_of(&pages, "Pages"),
                page_of(&pages, "/page/0"),
                "{lines}"
            );
        }
    }

    #[test]
    fn a_paragraph_leaves_no_single_line_at_the_bottom() {
        let text = ["A line of a long paragraph."; 12].join("\n");
        for lines in 30..50 {
            let pages = layout(&doc(vec![filler(lines), Block::Paragraph(text.clone())]));
            let lines_on: Vec<usize> = pages
                .iter()
                .map(|p| {
                    p.texts()
                        .filter(|t| *t == "A line of a long paragraph.")
                        .count()
                })
                .collect();
            assert!(!lines_on.contains(&1), "{lines}: {lines_on:?}");
            assert_above_footer(&pages);
        }
    }

    #[test]
    fn empty_data_says_so() {
        let blocks = vec![
            Block::BarChart {
                title: "Countries".into(),
                bars: vec![],
                unit: String::new(),
            },
            Block::LineChart {
                title: "Trend".into(),
                x_labels: vec!["Mon".into(), "Tue".into()],
                series: vec![Series::new("Visitors", vec![f64::NAN, f64::NAN])],
            },
            Block::LineChart {
                title: "Trend".into(),
                x_labels: vec![],
                series: vec![],
            },
            Block::Table {
                title: "Pages".into(),
                columns: vec![Column::left("Page", 1.0)],
                rows: vec![],
            },
            Block::Metrics(vec![]),
        ];
        let pages = layout(&doc(blocks));
        let no_data = pages[0].texts().filter(|t| *t == charts::NO_DATA).count();
        assert_eq!(no_data, 5);
        // An empty table shows no header for rows that are not there.
        assert!(!pages[0].texts().any(|t| t == "Page"));
    }

    #[test]
    fn a_bar_chart_longer_than_a_page_is_cut_with_a_note() {
        let bars = (0..200).map(|i| (format!("bar {i}"), 1.0)).collect();
        let pages = layout(&doc(vec![Block::BarChart {
            title: "Many".into(),
            bars,
            unit: String::new(),
        }]));
        let texts: Vec<&str> = pages.iter().flat_map(|p| p.texts()).collect();
        let shown = texts.iter().filter(|t| t.starts_with("bar ")).count();
        assert!(shown > 20 && shown < 200, "{shown}");
        let note = format!("… and {} more not shown", 200 - shown);
        assert!(texts.contains(&note.as_str()), "{note}");
    }

    /// Everything drawn stays inside the margins, and content stays above
    /// the footer, whatever the input's lengths.
    #[test]
    fn nothing_runs_off_the_page() {
        let long = "An extraordinarily long label that would never fit anywhere sensible at all";
        let blocks = vec![
            Block::Heading(long.repeat(2)),
            Block::Paragraph(long.repeat(5)),
            Block::Metrics(
                (0..7)
                    .map(|i| Metric::new(long, format!("{i}{}", "9".repeat(30))).with_note(long))
                    .collect(),
            ),
            Block::BarChart {
                title: long.repeat(3),
                bars: vec![
                    (long.into(), 1e12),
                    ("short".into(), 0.5),
                    (long.into(), -3.0),
                ],
                unit: "requests per second".into(),
            },
            Block::LineChart {
                title: long.into(),
                x_labels: (0..90).map(|i| format!("{long} {i}")).collect(),
                series: vec![
                    Series::new(long, (0..90).map(|i| f64::from(i) * 1e7).collect()),
                    Series::new(long, (0..90).map(|i| -f64::from(i)).collect()),
                ],
            },
            Block::LineChart {
                title: String::new(),
                x_labels: vec!["Only".into()],
                series: vec![Series::new("One", vec![5.0])],
            },
            Block::Table {
                title: long.into(),
                columns: vec![
                    Column::left(long, 1.0),
                    Column::right(long, 0.0),
                    Column::right("n", f32::NAN),
                ],
                rows: (0..80)
                    .map(|_| vec![long.into(), long.into(), long.into(), "extra".into()])
                    .collect(),
            },
        ];
        let mut document = doc(blocks);
        document.title = long.repeat(2);
        document.footer = long.repeat(3);
        let pages = layout(&document);
        let right = PAGE_WIDTH - MARGIN + 0.01;
        for (n, page) in pages.iter().enumerate() {
            for op in &page.ops {
                let (x0, x1, y0) = match op {
                    Op::Text {
                        x,
                        y,
                        font,
                        size,
                        text,
                        ..
                    } => (*x, x + text_width(text, *font, *size), *y),
                    Op::Fill { x, y, w, .. } => (*x, x + w, *y),
                    Op::Stroke { points, .. } => {
                        let xs = points.iter().map(|p| p.0);
                        let min = xs.clone().fold(f32::INFINITY, f32::min);
                        let max = xs.fold(f32::NEG_INFINITY, f32::max);
                        let low = points.iter().map(|p| p.1).fold(f32::INFINITY, f32::min);
                        (min, max, low)
                    }
                    Op::Dot { x, y, radius, .. } => (x - radius, x + radius, y - radius),
                };
                assert!(x0 >= MARGIN - 0.01 && x1 <= right, "page {}: {op:?}", n + 1);
                assert!(y0 >= FOOTER_BASELINE - 0.01, "page {}: {op:?}", n + 1);
                let is_footer = y0 <= FOOTER_RULE + 0.01;
                assert!(
                    is_footer || y0 >= CONTENT_BOTTOM - 0.01,
                    "page {}: {op:?}",
                    n + 1
                );
                assert!(y0 <= CONTENT_TOP, "page {}: {op:?}", n + 1);
            }
        }
    }
}
