//! Unicode to WinAnsiEncoding, the one-byte encoding the base-14 fonts are
//! declared with. Anything the encoding cannot show becomes `?`, so a report
//! with an unexpected script still renders, visibly marked, instead of failing.

/// The byte standing in for characters WinAnsi has no glyph for.
pub(crate) const REPLACEMENT: u8 = b'?';

/// The WinAnsi code for `c`.
pub(crate) fn encode_char(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        // Latin-1's printable upper half is WinAnsi's too. Its soft hyphen
        // (U+00AD) would draw as a hyphen, which is what a printed page wants.
        '\u{A0}'..='\u{FF}' => c as u32 as u8,
        // Layout has already split lines; any leftover spacing control is a
        // space rather than a question mark.
        '\t' | '\n' | '\r' => b' ',
        _ => extra(c).unwrap_or(REPLACEMENT),
    }
}

/// The bytes to show for `text`, one per character.
pub(crate) fn encode(text: &str) -> Vec<u8> {
    text.chars().map(encode_char).collect()
}

/// WinAnsi's additions over Latin-1, in the 0x80 to 0x9F range, plus a few
/// look-alikes (narrow and figure spaces, the minus sign, the non-breaking
/// hyphen) that number formatting commonly produces.
fn extra(c: char) -> Option<u8> {
    Some(match c {
        '\u{20AC}' => 0x80, // euro sign
        '\u{201A}' => 0x82, // single low quotation mark
        '\u{0192}' => 0x83, // florin
        '\u{201E}' => 0x84, // double low quotation mark
        '\u{2026}' => 0x85, // ellipsis
        '\u{2020}' => 0x86, // dagger
        '\u{2021}' => 0x87, // double dagger
        '\u{02C6}' => 0x88, // circumflex
        '\u{2030}' => 0x89, // per mille
        '\u{0160}' => 0x8A, // S caron
        '\u{2039}' => 0x8B, // single left angle quotation mark
        '\u{0152}' => 0x8C, // OE
        '\u{017D}' => 0x8E, // Z caron
        '\u{2018}' => 0x91, // left single quotation mark
        '\u{2019}' => 0x92, // right single quotation mark
        '\u{201C}' => 0x93, // left double quotation mark
        '\u{201D}' => 0x94, // right double quotation mark
        '\u{2022}' => 0x95, // bullet
        '\u{2013}' => 0x96, // en dash
        '\u{2014}' => 0x97, // em dash
        '\u{02DC}' => 0x98, // small tilde
        '\u{2122}' => 0x99, // trade mark
        '\u{0161}' => 0x9A, // s caron
        '\u{203A}' => 0x9B, // single right angle quotation mark
        '\u{0153}' => 0x9C, // oe
        '\u{017E}' => 0x9E, // z caron
        '\u{0178}' => 0x9F, // Y diaeresis
        '\u{2009}' | '\u{202F}' | '\u{2007}' | '\u{2002}' | '\u{2003}' => b' ',
        '\u{2212}' | '\u{2010}' | '\u{2011}' => b'-',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_latin1_map_to_themselves() {
        assert_eq!(encode("Hello (world) 42%"), b"Hello (world) 42%".to_vec());
        assert_eq!(
            encode("café Zürich ß"),
            vec![
                b'c', b'a', b'f', 0xE9, b' ', b'Z', 0xFC, b'r', b'i', b'c', b'h', b' ', 0xDF
            ]
        );
        assert_eq!(encode_char('\u{A0}'), 0xA0);
        assert_eq!(encode_char('ÿ'), 0xFF);
    }

    #[test]
    fn winansi_extras_are_mapped() {
        assert_eq!(encode_char('€'), 0x80);
        assert_eq!(encode_char('–'), 0x96);
        assert_eq!(encode_char('—'), 0x97);
        assert_eq!(encode_char('•'), 0x95);
        assert_eq!(encode_char('…'), 0x85);
        assert_eq!(
            encode("“quoted” ‘single’"),
            vec![
                0x93, b'q', b'u', b'o', b't', b'e', b'd', 0x94, b' ', 0x91, b's', b'i', b'n', b'g',
                b'l', b'e', 0x92
            ]
        );
        assert_eq!(encode_char('Œ'), 0x8C);
        assert_eq!(encode_char('™'), 0x99);
        assert_eq!(encode_char('−'), b'-');
    }

    #[test]
    fn everything_else_becomes_a_question_mark() {
        assert_eq!(encode("日本"), b"??".to_vec());
        assert_eq!(encode_char('😀'), b'?');
        assert_eq!(encode_char('\u{7F}'), b'?');
        assert_eq!(encode_char('\u{85}'), b'?');
        assert_eq!(encode_char('Ł'), b'?');
        // One byte per character, whatever its UTF-8 length, so widths and
        // truncation can count characters.
        assert_eq!(encode("aé€😀").len(), 4);
    }

    #[test]
    fn every_produced_code_has_a_glyph() {
        use crate::metrics::Font;
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            let code = encode_char(c);
            assert!(
                Font::Regular.advance(code) > 0 && Font::Bold.advance(code) > 0,
                "{c:?} maps to {code:#x}, which has no width"
            );
        }
    }
}
