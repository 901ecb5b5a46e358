//! Page patterns as report filters, alert rules and export filters give them
//! (spoor_core::pattern): the input's first line is the pattern, the rest the
//! page. Matching must agree with the definition of `*` and stay linear: a
//! slow input is reported by libFuzzer's -timeout.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spoor_core::pattern::{MAX_PATTERN_LEN, MAX_WILDCARDS, PagePattern, matches};

/// Whether `page` matches `pattern` (`*` matches any run of characters),
/// by the textbook table over prefixes: slow (pattern × page) but plainly
/// right, to check the fast matcher against.
fn reference(pattern: &[char], page: &[char]) -> bool {
    // row[j]: does the pattern so far match page[..j]?
    let mut row = vec![false; page.len() + 1];
    row[0] = true;
    for &p in pattern {
        let mut next = vec![false; page.len() + 1];
        if p == '*' {
            let mut any = false;
            for j in 0..=page.len() {
                any |= row[j];
                next[j] = any;
            }
        } else {
            for j in 1..=page.len() {
                next[j] = row[j - 1] && page[j - 1] == p;
            }
        }
        row = next;
    }
    row[page.len()]
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern, page) = text.split_once('\n').unwrap_or((text, ""));
    let pattern_chars: Vec<char> = pattern.chars().collect();
    let page_chars: Vec<char> = page.chars().collect();
    // Patterns stored before they were checked are matched as they are. The
    // reference costs pattern × page, so it judges the inputs where that is
    // small; on the rest the matcher must still answer within -timeout.
    let matched = matches(pattern, page);
    if pattern_chars.len().saturating_mul(page_chars.len()) <= 1 << 20 {
        assert_eq!(
            matched,
            reference(&pattern_chars, &page_chars),
            "{pattern:?} against {page:?}"
        );
    }
    if let Ok(p) = PagePattern::parse("page", pattern) {
        let s = p.as_str();
        assert!(s.len() <= MAX_PATTERN_LEN);
        assert!(s.matches('*').count() <= MAX_WILDCARDS);
        assert!(!s.contains("**") && !s.chars().any(char::is_control));
        assert!(s.starts_with('/') || s.starts_with('*'));
        // Collapsing runs of `*` does not change what matches.
        assert_eq!(p.matches(page), matches(pattern.trim(), page));
    }
});
