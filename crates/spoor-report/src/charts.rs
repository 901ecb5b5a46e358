//! Bar and line charts drawn as vector shapes at a spot on a page, the title
//! line charts and tables share, and the "No data for this period" box that
//! stands in for an empty chart or table.
//!
//! Each chart has a height function and a drawing function; layout asks the
//! first to decide where the chart goes, so the two must agree.

use crate::Series;
use crate::axis::{Axis, format_value, thin_labels};
use crate::canvas::{GRID, INK, MUTED, Page, RULE, SERIES, SHADE, Style};
use crate::metrics::Font;
use crate::text::fit;

pub(crate) const NO_DATA: &str = "No data for this period";
const NO_DATA_HEIGHT: f32 = 40.0;
const NO_DATA_STYLE: Style = Style::new(Font::Regular, 9.0, MUTED);

const TITLE: Style = Style::new(Font::Bold, 10.5, INK);
const TITLE_HEIGHT: f32 = 20.0;

const BAR_ROW: f32 = 18.0;
const BAR_THICKNESS: f32 = 11.0;
const BAR_LABEL: Style = Style::new(Font::Regular, 8.5, INK);
const BAR_VALUE: Style = Style::new(Font::Regular, 8.5, MUTED);
/// The line under a bar chart that says how many bars did not fit.
const MORE_HEIGHT: f32 = 16.0;

/// Plot, axis labels and x labels; the title and legend come on top.
const LINE_BODY: f32 = 170.0;
const LEGEND_HEIGHT: f32 = 16.0;
const AXIS_LABEL: Style = Style::new(Font::Regular, 7.5, MUTED);
const LEGEND: Style = Style::new(Font::Regular, 8.0, MUTED);
const LINE_WIDTH: f32 = 1.6;
/// Up to this many points a line also marks each point; more would crowd it.
const MARKED_POINTS: usize = 16;

/// Baseline offset that centres a line of digits and capitals (cap height
/// 0.718 em in Helvetica) on a given y.
fn centered_baseline(center: f32, style: Style) -> f32 {
    center - 0.718 * style.size / 2.0
}

/// Height of a chart's or table's title line; nothing when there is no title.
pub(crate) fn title_height(title: &str) -> f32 {
    if title.is_empty() { 0.0 } else { TITLE_HEIGHT }
}

/// Draws a title line and returns its height.
pub(crate) fn title(page: &mut Page, x: f32, top: f32, width: f32, text: &str) -> f32 {
    if text.is_empty() {
        return 0.0;
    }
    page.text(
        x,
        top - 8.0,
        TITLE,
        fit(text, TITLE.font, TITLE.size, width),
    );
    TITLE_HEIGHT
}

pub(crate) fn no_data_height() -> f32 {
    NO_DATA_HEIGHT
}

/// A shaded box with "No data for this period", so an empty period reads as
/// such on paper rather than as a chart that failed to print.
pub(crate) fn no_data(page: &mut Page, x: f32, top: f32, width: f32) -> f32 {
    page.fill(x, top - NO_DATA_HEIGHT, width, NO_DATA_HEIGHT, SHADE);
    let baseline = centered_baseline(top - NO_DATA_HEIGHT / 2.0, NO_DATA_STYLE);
    page.text_center(x + width / 2.0, baseline, NO_DATA_STYLE, NO_DATA);
    NO_DATA_HEIGHT
}

/// Height of a bar chart showing `shown` bars, with a note for `hidden` more.
pub(crate) fn bar_chart_height(title: &str, shown: usize, hidden: usize) -> f32 {
    let body = if shown == 0 {
        NO_DATA_HEIGHT
    } else {
        shown as f32 * BAR_ROW + if hidden > 0 { MORE_HEIGHT } else { 0.0 }
    };
    title_height(title) + body
}

/// How many bars fit in `height`, when a chart has `total`.
pub(crate) fn bars_that_fit(title: &str, total: usize, height: f32) -> usize {
    if bar_chart_height(title, total, 0) <= height {
        return total;
    }
    let rows = (height - title_height(title) - MORE_HEIGHT) / BAR_ROW;
    (rows.floor().max(1.0) as usize).min(total)
}

fn with_unit(value: f64, unit: &str) -> String {
    let number = format_value(value);
    match unit {
        "" => number,
        // "12%", but "12 ms" and "12 visits".
        _ if unit.starts_with('%') => format!("{number}{unit}"),
        _ => format!("{number} {unit}"),
    }
}

/// Draws the first `bars.len()` bars of a chart that has `hidden` more, and
/// returns the height used.
pub(crate) fn bar_chart(
    page: &mut Page,
    (x, top, width): (f32, f32, f32),
    chart_title: &str,
    bars: &[(String, f64)],
    hidden: usize,
    unit: &str,
) -> f32 {
    let mut y = top - title(page, x, top, width, chart_title);
    if bars.is_empty() {
        return top - y + no_data(page, x, y, width);
    }
    let values: Vec<String> = bars.iter().map(|(_, v)| with_unit(*v, unit)).collect();
    let value_width = values
        .iter()
        .map(|v| BAR_VALUE.width(v))
        .fold(0.0, f32::max);
    let label_width = bars
        .iter()
        .map(|(label, _)| BAR_LABEL.width(label))
        .fold(0.0, f32::max)
        .min(width * 0.32);
    let bar_left = x + if label_width > 0.0 {
        label_width + 10.0
    } else {
        0.0
    };
    let longest = (x + width - value_width - 6.0 - bar_left).max(10.0);
    let scale = bars
        .iter()
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold(0.0, f64::max);

    let body_top = y;
    for ((label, value), value_text) in bars.iter().zip(&values) {
        let center = y - BAR_ROW / 2.0;
        let baseline = centered_baseline(center, BAR_LABEL);
        page.text(
            x,
            baseline,
            BAR_LABEL,
            fit(label, BAR_LABEL.font, BAR_LABEL.size, label_width),
        );
        let length = if value.is_finite() && *value > 0.0 && scale > 0.0 {
            // A visible sliver for small values: zero and "almost zero" differ.
            ((value / scale) as f32 * longest).max(1.0)
        } else {
            0.0
        };
        page.fill(
            bar_left,
            center - BAR_THICKNESS / 2.0,
            length,
            BAR_THICKNESS,
            SERIES[0],
        );
        page.text(
            bar_left + length + 5.0,
            baseline,
            BAR_VALUE,
            value_text.as_str(),
        );
        y -= BAR_ROW;
    }
    page.line((bar_left, body_top), (bar_left, y), 0.75, RULE);
    if hidden > 0 {
        let note = format!("… and {hidden} more not shown");
        page.text(x, y - 11.0, LEGEND, note);
        y -= MORE_HEIGHT;
    }
    top - y
}

/// Whether a line chart has anything to draw.
pub(crate) fn line_chart_is_empty(x_labels: &[String], series: &[Series]) -> bool {
    let n = x_labels.len();
    !series
        .iter()
        .any(|s| s.values.iter().take(n).any(|v| v.is_finite()))
}

fn legend_width(series: &[Series]) -> f32 {
    series
        .iter()
        .map(|s| 14.0 + LEGEND.width(&legend_name(s)) + 14.0)
        .sum::<f32>()
        - 14.0
}

fn legend_name(series: &Series) -> String {
    fit(&series.name, LEGEND.font, LEGEND.size, 150.0).into_owned()
}

/// Whether the legend fits on the title's line, right-aligned.
fn legend_inline(chart_title: &str, series: &[Series], width: f32) -> bool {
    TITLE.width(chart_title) + 24.0 + legend_width(series) <= width
}

pub(crate) fn line_chart_height(
    chart_title: &str,
    x_labels: &[String],
    series: &[Series],
    width: f32,
) -> f32 {
    if line_chart_is_empty(x_labels, series) {
        return title_height(chart_title) + NO_DATA_HEIGHT;
    }
    let title_row = if chart_title.is_empty() {
        0.0
    } else {
        TITLE_HEIGHT
    };
    let legend_row = if !chart_title.is_empty() && legend_inline(chart_title, series, width) {
        0.0
    } else {
        LEGEND_HEIGHT
    };
    title_row + legend_row + LINE_BODY
}

fn legend(page: &mut Page, right: f32, baseline: f32, series: &[Series]) {
    let mut x = right - legend_width(series);
    for (i, s) in series.iter().enumerate() {
        page.fill(x, baseline + 1.5, 10.0, 3.0, SERIES[i % SERIES.len()]);
        x += 14.0;
        let name = legend_name(s);
        let w = LEGEND.width(&name);
        page.text(x, baseline, LEGEND, name);
        x += w + 14.0;
    }
}

/// Draws a line chart and returns the height used; the same as
/// [`line_chart_height`].
pub(crate) fn line_chart(
    page: &mut Page,
    (x, top, width): (f32, f32, f32),
    chart_title: &str,
    x_labels: &[String],
    series: &[Series],
) -> f32 {
    let height = line_chart_height(chart_title, x_labels, series, width);
    if line_chart_is_empty(x_labels, series) {
        let used = title(page, x, top, width, chart_title);
        return used + no_data(page, x, top - used, width);
    }
    let right = x + width;
    let mut y = top;
    if !chart_title.is_empty() {
        let inline = legend_inline(chart_title, series, width);
        let title_width = if inline {
            width - legend_width(series) - 24.0
        } else {
            width
        };
        title(page, x, y, title_width, chart_title);
        if inline {
            legend(page, right, y - 8.0, series);
        }
        y -= TITLE_HEIGHT;
        if !inline {
            legend(page, right, y - 6.0, series);
            y -= LEGEND_HEIGHT;
        }
    } else {
        legend(page, right, y - 6.0, series);
        y -= LEGEND_HEIGHT;
    }

    let n = x_labels.len();
    let finite = || {
        series
            .iter()
            .flat_map(|s| s.values.iter().take(n))
            .copied()
            .filter(|v| v.is_finite())
    };
    let lo = finite().fold(f64::INFINITY, f64::min);
    let hi = finite().fold(f64::NEG_INFINITY, f64::max);
    let axis = Axis::nice(lo, hi, 5);
    let format = axis.format();
    let ticks: Vec<(f64, String)> = axis.ticks().map(|t| (t, format.label(t))).collect();
    let tick_width = ticks
        .iter()
        .map(|(_, label)| AXIS_LABEL.width(label))
        .fold(0.0, f32::max);

    // Room above the plot for the top tick label's upper half.
    let plot_top = y - 6.0;
    let plot_bottom = top - height + 18.0;
    let plot_left = x + tick_width + 8.0;
    let to_y = |v: f64| {
        plot_bottom + ((v - axis.min) / (axis.max - axis.min)) as f32 * (plot_top - plot_bottom)
    };
    // Points sit a little inside the plot so the first and last x labels can
    // be centred under them.
    let inset = if n > 1 { 8.0 } else { 0.0 };
    let spacing = if n > 1 {
        (right - plot_left - 2.0 * inset) / (n - 1) as f32
    } else {
        0.0
    };
    let to_x = |i: usize| {
        if n > 1 {
            plot_left + inset + i as f32 * spacing
        } else {
            (plot_left + right) / 2.0
        }
    };

    for (value, label) in &ticks {
        let ty = to_y(*value);
        let (weight, color) = if *value == axis.min || *value == 0.0 {
            (0.75, RULE)
        } else {
            (0.5, GRID)
        };
        page.line((plot_left, ty), (right, ty), weight, color);
        page.text_right(
            plot_left - 6.0,
            centered_baseline(ty, AXIS_LABEL),
            AXIS_LABEL,
            label.as_str(),
        );
    }

    let labels: Vec<String> = x_labels
        .iter()
        .map(|l| fit(l, AXIS_LABEL.font, AXIS_LABEL.size, 90.0).into_owned())
        .collect();
    let widest = labels
        .iter()
        .map(|l| AXIS_LABEL.width(l))
        .fold(0.0, f32::max);
    for i in thin_labels(n, spacing, widest, 10.0) {
        let center = to_x(i);
        let w = AXIS_LABEL.width(&labels[i]);
        let left = (center - w / 2.0).clamp(x, (right - w).max(x));
        page.line(
            (center, plot_bottom),
            (center, plot_bottom - 3.0),
            0.75,
            RULE,
        );
        page.text(left, plot_bottom - 12.0, AXIS_LABEL, labels[i].as_str());
    }

    for (index, s) in series.iter().enumerate() {
        let color = SERIES[index % SERIES.len()];
        let mut run: Vec<(f32, f32)> = Vec::new();
        let flush = |run: &mut Vec<(f32, f32)>, page: &mut Page| {
            // A lone point between gaps would otherwise be invisible.
            if run.len() == 1 {
                page.dot(run[0].0, run[0].1, 2.0, color);
            }
            page.polyline(std::mem::take(run), LINE_WIDTH, color);
        };
        for (i, v) in s.values.iter().take(n).enumerate() {
            if v.is_finite() {
                run.push((to_x(i), to_y(*v)));
            } else {
                flush(&mut run, page);
            }
        }
        flush(&mut run, page);
        if n <= MARKED_POINTS {
            for (i, v) in s.values.iter().take(n).enumerate() {
                if v.is_finite() {
                    page.dot(to_x(i), to_y(*v), 1.9, color);
                }
            }
        }
    }
    height
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canvas::Op;
    use crate::text::text_width;

    fn texts_at(page: &Page, baseline: f32) -> Vec<(f32, f32, String)> {
        page.ops
            .iter()
            .filter_map(|op| match op {
                Op::Text {
                    x,
                    y,
                    font,
                    size,
                    text,
                    ..
                } if (*y - baseline).abs() < 0.01 => {
                    Some((*x, *x + text_width(text, *font, *size), text.clone()))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn bars_are_proportional_to_their_values() {
        let mut page = Page::default();
        let bars = vec![
            ("a".to_owned(), 100.0),
            ("b".to_owned(), 50.0),
            ("c".to_owned(), 0.0),
            ("d".to_owned(), 25.0),
        ];
        let used = bar_chart(&mut page, (0.0, 500.0, 400.0), "T", &bars, 0, "ms");
        assert_eq!(used, bar_chart_height("T", 4, 0));
        let widths: Vec<f32> = page
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::Fill { w, .. } => Some(*w),
                _ => None,
            })
            .collect();
        // The zero bar draws nothing.
        assert_eq!(widths.len(), 3);
        assert!((widths[0] / widths[1] - 2.0).abs() < 1e-3);
        assert!((widths[0] / widths[2] - 4.0).abs() < 1e-3);
        let texts: Vec<&str> = page.texts().collect();
        assert!(texts.contains(&"100 ms") && texts.contains(&"0 ms"));
        // The longest bar's value label still ends inside the chart.
        for op in &page.ops {
            if let Op::Text {
                x,
                font,
                size,
                text,
                ..
            } = op
            {
                assert!(x + text_width(text, *font, *size) <= 400.0 + 1e-3, "{text}");
            }
        }
    }

    #[test]
    fn line_chart_x_labels_do_not_overlap_and_ticks_are_round() {
        let x_labels: Vec<String> = (1..=60).map(|d| format!("2025-03-{d:02}")).collect();
        let series = vec![
            Series::new(
                "Visitors",
                (0..60).map(|i| 1000.0 + f64::from(i) * 55.0).collect(),
            ),
            Series::new(
                "Sessions",
                (0..60).map(|i| 900.0 + f64::from(i) * 20.0).collect(),
            ),
        ];
        let mut page = Page::default();
        let top = 700.0;
        let used = line_chart(&mut page, (50.0, top, 500.0), "Trend", &x_labels, &series);
        assert_eq!(used, line_chart_height("Trend", &x_labels, &series, 500.0));

        let baseline = top - used + 18.0 - 12.0;
        let labels = texts_at(&page, baseline);
        assert!(labels.len() >= 4 && labels.len() < 60, "{labels:?}");
        for pair in labels.windows(2) {
            assert!(pair[1].0 - pair[0].1 >= 8.0, "{pair:?}");
        }
        assert_eq!(labels[0].2, "2025-03-01");

        let ticks: Vec<&str> = page
            .texts()
            .filter(|t| t.chars().all(|c| c.is_ascii_digit() || c == ','))
            .collect();
        assert_eq!(ticks, ["0", "1,000", "2,000", "3,000", "4,000", "5,000"]);
        assert!(page.texts().any(|t| t == "Visitors") && page.texts().any(|t| t == "Sessions"));
        // Two series, two lines, no markers at 60 points.
        let lines = page
            .ops
            .iter()
            .filter(|op| matches!(op, Op::Stroke { points, .. } if points.len() == 60))
            .count();
        assert_eq!(lines, 2);
    }

    #[test]
    fn a_gap_in_a_series_breaks_its_line() {
        let x_labels: Vec<String> = (0..7).map(|d| format!("D{d}")).collect();
        let values = vec![1.0, 2.0, f64::NAN, 4.0, f64::NAN, 6.0, 7.0];
        let mut page = Page::default();
        line_chart(
            &mut page,
            (0.0, 700.0, 400.0),
            "",
            &x_labels,
            &[Series::new("S", values)],
        );
        let runs: Vec<usize> = page
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::Stroke { points, width, .. } if *width == LINE_WIDTH => Some(points.len()),
                _ => None,
            })
            .collect();
        assert_eq!(runs, [2, 2]);
        // The lone point between the gaps is still drawn.
        assert!(
            page.ops
                .iter()
                .any(|op| matches!(op, Op::Dot { radius, .. } if *radius == 2.0))
        );
    }
}
