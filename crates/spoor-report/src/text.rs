//! Measuring, truncating and wrapping text set in Helvetica, so layout can
//! right-align numbers, keep cells inside their columns and fill paragraphs.
//!
//! Everything here measures the characters as the PDF will show them: each
//! character is first mapped to its WinAnsi byte, so a `?` stand-in is measured
//! as a `?`.

use std::borrow::Cow;

use crate::encoding::encode_char;
use crate::metrics::Font;

const ELLIPSIS: char = '…';

/// Width of one character in thousandths of the font size.
fn units(c: char, font: Font) -> u32 {
    u32::from(font.advance(encode_char(c)))
}

fn to_points(units: u32, size: f32) -> f32 {
    units as f32 * size / 1000.0
}

/// The width of `text` in points at `size`.
pub fn text_width(text: &str, font: Font, size: f32) -> f32 {
    to_points(text.chars().map(|c| units(c, font)).sum(), size)
}

/// `text` as it fits in `max_width`: unchanged when it does, otherwise cut and
/// ended with an ellipsis. Empty when not even the ellipsis fits.
pub fn fit(text: &str, font: Font, size: f32, max_width: f32) -> Cow<'_, str> {
    let ellipsis = units(ELLIPSIS, font);
    // Compare in font units: the limit is converted once, and each prefix is
    // compared as it grows, so a long cell costs one pass.
    let limit = (max_width.max(0.0) * 1000.0 / size).floor() as u32;
    let mut used = 0;
    // Byte length of the longest prefix that still fits with the ellipsis.
    let mut keep = 0;
    for (i, c) in text.char_indices() {
        if used + ellipsis <= limit {
            keep = i;
        }
        used += units(c, font);
        if used > limit {
            if ellipsis > limit {
                return Cow::Borrowed("");
            }
            // A cut right after a space would leave "word …"; the ellipsis
            // belongs against the last visible character.
            let kept = text[..keep].trim_end();
            if kept.is_empty() {
                return Cow::Borrowed("…");
            }
            let mut out = String::with_capacity(kept.len() + ELLIPSIS.len_utf8());
            out.push_str(kept);
            out.push(ELLIPSIS);
            return Cow::Owned(out);
        }
    }
    Cow::Borrowed(text)
}

/// Splits `text` into lines no wider than `max_width`: breaks at spaces, keeps
/// the caller's line breaks (`\n`), and breaks a word that is wider than a
/// whole line between characters. Runs of spaces collapse to one. An empty
/// input line stays as an empty line.
pub fn wrap(text: &str, font: Font, size: f32, max_width: f32) -> Vec<String> {
    let limit = (max_width.max(0.0) * 1000.0 / size).floor() as u32;
    let space = units(' ', font);
    let mut lines = Vec::new();
    for hard_line in text.split('\n') {
        let mut line = String::new();
        let mut used = 0u32;
        for word in hard_line.split([' ', '\t', '\r']).filter(|w| !w.is_empty()) {
            let width: u32 = word.chars().map(|c| units(c, font)).sum();
            if !line.is_empty() && used + space + width <= limit {
                line.push(' ');
                line.push_str(word);
                used += space + width;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            if width <= limit {
                line.push_str(word);
                used = width;
                continue;
            }
            for c in word.chars() {
                let w = units(c, font);
                // At least one character per line, or a column narrower than a
                // letter would never finish.
                if !line.is_empty() && used + w > limit {
                    lines.push(std::mem::take(&mut line));
                    used = 0;
                }
                line.push(c);
                used += w;
            }
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-3
    }

    #[test]
    fn width_follows_the_helvetica_metrics() {
        // H 722 + e 556 + l 222 + l 222 + o 556 = 2278 thousandths.
        assert!(close(text_width("Hello", Font::Regular, 10.0), 22.78));
        // Bold: H 722 + e 556 + l 278 + l 278 + o 611 = 2445.
        assert!(close(text_width("Hello", Font::Bold, 10.0), 24.45));
        // Digits share one width so right-aligned columns line up.
        assert!(close(
            text_width("1,234", Font::Regular, 9.0),
            (4.0 * 556.0 + 278.0) * 0.009
        ));
        assert!(close(text_width("€–", Font::Regular, 10.0), 5.56 + 5.56));
        assert!(close(text_width("", Font::Bold, 12.0), 0.0));
        // An unmappable character is measured as the `?` that replaces it.
        assert!(close(text_width("日", Font::Regular, 10.0), 5.56));
    }

    #[test]
    fn fit_leaves_short_text_alone() {
        let fitted = fit("Pricing", Font::Regular, 9.0, 100.0);
        assert!(matches!(fitted, Cow::Borrowed("Pricing")));
        // Exactly as wide as the space is still a fit.
        let w = text_width("Pricing", Font::Regular, 9.0);
        assert_eq!(fit("Pricing", Font::Regular, 9.0, w), "Pricing");
    }

    #[test]
    fn fit_truncates_with_an_ellipsis_within_the_width() {
        let long = "https://example.com/a/very/long/path/that/cannot/fit/in/a/table/column";
        for max in [30.0, 55.5, 80.0, 123.4, 200.0] {
            let fitted = fit(long, Font::Regular, 9.0, max);
            assert!(fitted.ends_with('…'), "{fitted}");
            assert!(
                text_width(&fitted, Font::Regular, 9.0) <= max,
                "{fitted} > {max}"
            );
            // And as much as possible is kept: one more character would not fit.
            let kept = fitted.trim_end_matches('…');
            let next = &long[..kept.len() + 1];
            assert!(text_width(&format!("{next}…"), Font::Regular, 9.0) > max);
        }
    }

    #[test]
    fn fit_does_not_leave_a_space_before_the_ellipsis() {
        let max = text_width("Landing page…", Font::Bold, 10.0) + 0.5;
        assert_eq!(
            fit("Landing page variant B", Font::Bold, 10.0, max),
            "Landing page…"
        );
        let max = text_width("Landing …", Font::Bold, 10.0);
        assert_eq!(
            fit("Landing page variant B", Font::Bold, 10.0, max),
            "Landing…"
        );
    }

    #[test]
    fn fit_in_almost_no_space() {
        let ellipsis = text_width("…", Font::Regular, 10.0);
        assert_eq!(fit("Wide", Font::Regular, 10.0, ellipsis), "…");
        assert_eq!(fit("Wide", Font::Regular, 10.0, ellipsis - 0.1), "");
        assert_eq!(fit("Wide", Font::Regular, 10.0, 0.0), "");
        assert_eq!(fit("Wide", Font::Regular, 10.0, -5.0), "");
        assert_eq!(fit("", Font::Regular, 10.0, 0.0), "");
    }

    #[test]
    fn fit_counts_multibyte_characters_as_one_glyph() {
        let text = "Zürich → Köln → Genève";
        let max = 50.0;
        let fitted = fit(text, Font::Regular, 10.0, max);
        assert!(text_width(&fitted, Font::Regular, 10.0) <= max);
        assert!(fitted.starts_with("Zürich"));
    }

    #[test]
    fn wrap_breaks_at_spaces_within_the_width() {
        let text = "Sessions grew steadily through the month, with the largest gains on \
                    weekdays after the pricing page was redesigned.";
        let lines = wrap(text, Font::Regular, 10.0, 150.0);
        assert!(lines.len() >= 3, "{lines:?}");
        for line in &lines {
            assert!(text_width(line, Font::Regular, 10.0) <= 150.0, "{line}");
            assert!(!line.starts_with(' ') && !line.ends_with(' '));
        }
        assert_eq!(lines.join(" "), text);
        // Greedy: the next line's first word would not have fit on this one.
        for pair in lines.windows(2) {
            let first = pair[1].split(' ').next().unwrap();
            let joined = format!("{} {first}", pair[0]);
            assert!(text_width(&joined, Font::Regular, 10.0) > 150.0);
        }
    }

    #[test]
    fn wrap_keeps_line_breaks_and_collapses_spaces() {
        let lines = wrap("First   line\n\nThird", Font::Regular, 10.0, 500.0);
        assert_eq!(lines, vec!["First line", "", "Third"]);
        assert_eq!(wrap("", Font::Regular, 10.0, 100.0), vec![""]);
    }

    #[test]
    fn wrap_breaks_a_word_longer_than_the_line() {
        let word = "a".repeat(100);
        let lines = wrap(&format!("see {word} here"), Font::Regular, 10.0, 60.0);
        assert_eq!(lines.first().map(String::as_str), Some("see"));
        assert_eq!(lines.last().map(String::as_str), Some("here"));
        for line in &lines {
            assert!(text_width(line, Font::Regular, 10.0) <= 60.0, "{line}");
        }
        assert_eq!(lines.concat().matches('a').count(), 100);
    }

    #[test]
    fn wrap_makes_progress_in_a_column_narrower_than_a_letter() {
        let lines = wrap("WW", Font::Regular, 10.0, 1.0);
        assert_eq!(lines, vec!["W", "W"]);
    }
}
