//! Serialises laid-out pages as a PDF file: the catalog and page tree, the two
//! base-14 fonts in WinAnsiEncoding, one compressed content stream per page,
//! and the document information (title, producer, creation date).

use chrono::{Datelike, Timelike};
use pdf_writer::types::{LineCapStyle, LineJoinStyle};
use pdf_writer::{Content, Date, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::Document;
use crate::canvas::{Color, Op, Page};
use crate::encoding::encode;
use crate::layout::{PAGE_HEIGHT, PAGE_WIDTH};
use crate::metrics::Font;

const CATALOG: Ref = Ref::new(1);
const PAGE_TREE: Ref = Ref::new(2);
const INFO: Ref = Ref::new(3);
const HELVETICA: Ref = Ref::new(4);
const HELVETICA_BOLD: Ref = Ref::new(5);
/// Pages and their content streams take the ids from here on, two each.
const FIRST_PAGE: i32 = 6;

const REGULAR_NAME: Name<'static> = Name(b"F1");
const BOLD_NAME: Name<'static> = Name(b"F2");

/// Content streams are mostly repeated operators and coordinates, which
/// deflate shrinks several times over; the fastest level already gets most of
/// that.
const DEFLATE_LEVEL: u8 = 1;

pub(crate) fn write(doc: &Document, pages: &[Page]) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(FIRST_PAGE + 2 * i as i32))
        .collect();

    pdf.catalog(CATALOG).pages(PAGE_TREE);
    pdf.pages(PAGE_TREE)
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);

    for (id, base_font) in [(HELVETICA, "Helvetica"), (HELVETICA_BOLD, "Helvetica-Bold")] {
        pdf.type1_font(id)
            .base_font(Name(base_font.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }

    for (page, &id) in pages.iter().zip(&page_ids) {
        let content_id = Ref::new(id.get() + 1);
        let mut writer = pdf.page(id);
        writer
            .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .parent(PAGE_TREE)
            .contents(content_id);
        writer
            .resources()
            .fonts()
            .pair(REGULAR_NAME, HELVETICA)
            .pair(BOLD_NAME, HELVETICA_BOLD);
        writer.finish();

        let content = content(page);
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&content, DEFLATE_LEVEL);
        pdf.stream(content_id, &compressed)
            .filter(Filter::FlateDecode);
    }

    let mut info = pdf.document_info(INFO);
    info.title(TextStr(&doc.title)).producer(TextStr("Spoor"));
    if let Some(created) = doc.created {
        let date = Date::new(created.year().clamp(0, 9999) as u16)
            .month(created.month() as u8)
            .day(created.day() as u8)
            .hour(created.hour() as u8)
            .minute(created.minute() as u8)
            .second(created.second() as u8)
            .utc_offset_hour(0)
            .utc_offset_minute(0);
        info.creation_date(date);
    }
    info.finish();

    pdf.finish()
}

/// One page's content stream. It keeps track of the current colour and font
/// so that runs of table cells do not repeat them for every cell.
fn content(page: &Page) -> Vec<u8> {
    let mut out = Content::new();
    out.set_line_cap(LineCapStyle::ButtCap);
    out.set_line_join(LineJoinStyle::RoundJoin);
    let mut fill: Option<Color> = None;
    let mut in_text = false;
    let mut font: Option<(Font, f32)> = None;

    let mut set_fill = |out: &mut Content, color: Color| {
        if fill != Some(color) {
            out.set_fill_rgb(color.0, color.1, color.2);
            fill = Some(color);
        }
    };

    for op in &page.ops {
        let is_text = matches!(op, Op::Text { .. });
        if in_text && !is_text {
            out.end_text();
            in_text = false;
        }
        match op {
            Op::Text {
                x,
                y,
                font: face,
                size,
                color,
                text,
            } => {
                if !in_text {
                    out.begin_text();
                    in_text = true;
                }
                if font != Some((*face, *size)) {
                    let name = match face {
                        Font::Regular => REGULAR_NAME,
                        Font::Bold => BOLD_NAME,
                    };
                    out.set_font(name, *size);
                    font = Some((*face, *size));
                }
                set_fill(&mut out, *color);
                out.set_text_matrix([1.0, 0.0, 0.0, 1.0, *x, *y]);
                out.show(Str(&encode(text)));
            }
            Op::Fill { x, y, w, h, color } => {
                set_fill(&mut out, *color);
                out.rect(*x, *y, *w, *h).fill_nonzero();
            }
            Op::Stroke {
                points,
                width,
                color,
            } => {
                out.set_stroke_rgb(color.0, color.1, color.2);
                out.set_line_width(*width);
                let (first, rest) = points.split_first().expect("a stroke has points");
                out.move_to(first.0, first.1);
                for p in rest {
                    out.line_to(p.0, p.1);
                }
                out.stroke();
            }
            Op::Dot {
                x,
                y,
                radius,
                color,
            } => {
                set_fill(&mut out, *color);
                circle(&mut out, *x, *y, *radius);
                out.fill_nonzero();
            }
        }
    }
    if in_text {
        out.end_text();
    }
    out.finish().into_vec()
}

/// A circle as four cubic Béziers, the usual approximation (the control
/// points sit 0.5523 of the radius out).
fn circle(out: &mut Content, x: f32, y: f32, r: f32) {
    let k = 0.552_284_8 * r;
    out.move_to(x + r, y);
    out.cubic_to(x + r, y + k, x + k, y + r, x, y + r);
    out.cubic_to(x - k, y + r, x - r, y + k, x - r, y);
    out.cubic_to(x - r, y - k, x - k, y - r, x, y - r);
    out.cubic_to(x + k, y - r, x + r, y - k, x + r, y);
    out.close_path();
}
