//! A page as a list of drawing operations in PDF points (origin at the bottom
//! left), with the report's palette. Layout fills pages with these; the PDF
//! writer only serialises them, and tests read them back without parsing PDF.

use crate::metrics::Font;
use crate::text::text_width;

/// An RGB colour, each channel 0 to 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Color(pub f32, pub f32, pub f32);

const fn rgb(hex: u32) -> Color {
    Color(
        ((hex >> 16) & 0xFF) as f32 / 255.0,
        ((hex >> 8) & 0xFF) as f32 / 255.0,
        (hex & 0xFF) as f32 / 255.0,
    )
}

/// Body text: near black, softer than pure black on paper.
pub(crate) const INK: Color = rgb(0x1F2328);
/// Secondary text: labels, notes, axis numbers, the footer.
pub(crate) const MUTED: Color = rgb(0x5C6370);
/// Rules under headers, around the no-data box, axis baselines.
pub(crate) const RULE: Color = rgb(0xC4C9D0);
/// Gridlines, light enough not to compete with the data.
pub(crate) const GRID: Color = rgb(0xE4E7EB);
/// Backgrounds: zebra rows and KPI tiles.
pub(crate) const SHADE: Color = rgb(0xF3F5F8);
/// The data colours. Dark blue and orange differ in lightness as well as hue,
/// so they stay apart when printed in grayscale; the third is a mid gray.
pub(crate) const SERIES: [Color; 3] = [rgb(0x1F4E79), rgb(0xE8883A), rgb(0x9AA0A8)];
/// Headings and the title rule pick up the first data colour.
pub(crate) const ACCENT: Color = SERIES[0];

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Op {
    /// Text starting at `x` on the baseline `y`.
    Text {
        x: f32,
        y: f32,
        font: Font,
        size: f32,
        color: Color,
        text: String,
    },
    /// A filled rectangle; `y` is its bottom edge.
    Fill {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: Color,
    },
    /// A line through `points`, with butt ends.
    Stroke {
        points: Vec<(f32, f32)>,
        width: f32,
        color: Color,
    },
    /// A filled circle, for data points.
    Dot {
        x: f32,
        y: f32,
        radius: f32,
        color: Color,
    },
}

/// How a line of text is set: face, size and colour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Style {
    pub font: Font,
    pub size: f32,
    pub color: Color,
}

impl Style {
    pub const fn new(font: Font, size: f32, color: Color) -> Style {
        Style { font, size, color }
    }

    pub fn width(&self, text: &str) -> f32 {
        text_width(text, self.font, self.size)
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Page {
    pub ops: Vec<Op>,
}

impl Page {
    pub fn text(&mut self, x: f32, y: f32, style: Style, text: impl Into<String>) {
        let text = text.into();
        if text.is_empty() {
            return;
        }
        self.ops.push(Op::Text {
            x,
            y,
            font: style.font,
            size: style.size,
            color: style.color,
            text,
        });
    }

    /// Text whose right edge is at `right`.
    pub fn text_right(&mut self, right: f32, y: f32, style: Style, text: impl Into<String>) {
        let text = text.into();
        self.text(right - style.width(&text), y, style, text);
    }

    /// Text centred on `center`.
    pub fn text_center(&mut self, center: f32, y: f32, style: Style, text: impl Into<String>) {
        let text = text.into();
        self.text(center - style.width(&text) / 2.0, y, style, text);
    }

    pub fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, color: Color) {
        if w > 0.0 && h > 0.0 {
            self.ops.push(Op::Fill { x, y, w, h, color });
        }
    }

    pub fn line(&mut self, from: (f32, f32), to: (f32, f32), width: f32, color: Color) {
        self.polyline(vec![from, to], width, color);
    }

    pub fn polyline(&mut self, points: Vec<(f32, f32)>, width: f32, color: Color) {
        if points.len() >= 2 {
            self.ops.push(Op::Stroke {
                points,
                width,
                color,
            });
        }
    }

    pub fn dot(&mut self, x: f32, y: f32, radius: f32, color: Color) {
        self.ops.push(Op::Dot {
            x,
            y,
            radius,
            color,
        });
    }

    /// Every piece of text on the page, in drawing order.
    #[cfg(test)]
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.ops.iter().filter_map(|op| match op {
            Op::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
    }
}
