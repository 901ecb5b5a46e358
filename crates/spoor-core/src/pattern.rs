//! Page patterns: a path in which `*` matches any run of characters
//! (`/property/*`). The one place that checks a pattern a sender gives and
//! matches a page against it.
//!
//! Patterns come from report filters, alert rules and export filters, and are
//! matched by the scheduler for every tenant, so matching must cost the same
//! whatever the pattern: [`matches`] finds the pattern's literal pieces left to
//! right, each once, which takes time linear in the page and the pattern. (A
//! backtracking matcher tries every split at every `*`, and a pattern like
//! `/*z*z*z*z*z*z*z*z*q` against a long path takes years.) Patterns are also
//! bounded in length and in wildcards, since the stores turn them into SQL
//! `LIKE` patterns.

/// The longest pattern accepted, in bytes.
pub const MAX_PATTERN_LEN: usize = 512;
/// The most `*` a pattern may hold.
pub const MAX_WILDCARDS: usize = 16;

/// Why a pattern was refused; the message says what to send instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error(
        "`{field}` is a path such as /pricing or a pattern such as /property/* (starting with / or *), not {shown:?}"
    )]
    NotAPath { field: &'static str, shown: String },
    #[error("`{field}` is at most {MAX_PATTERN_LEN} bytes long; this one is {len}")]
    TooLong { field: &'static str, len: usize },
    #[error("`{field}` holds at most {MAX_WILDCARDS} `*`; this one holds {count}")]
    TooManyWildcards { field: &'static str, count: usize },
    #[error("`{field}` cannot hold control characters (NUL, tabs, line breaks ...)")]
    ControlCharacter { field: &'static str },
}

/// A checked page pattern. Runs of `*` are kept as one, which matches the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePattern(String);

impl PagePattern {
    /// Checks a pattern a sender gave for the request field `field`. Leading
    /// and trailing white space is dropped.
    pub fn parse(field: &'static str, s: &str) -> Result<PagePattern, PatternError> {
        let s = s.trim();
        if s.len() > MAX_PATTERN_LEN {
            return Err(PatternError::TooLong {
                field,
                len: s.len(),
            });
        }
        if !s.starts_with('/') && !s.starts_with('*') {
            return Err(PatternError::NotAPath {
                field,
                shown: s.chars().take(80).collect(),
            });
        }
        if s.chars().any(char::is_control) {
            return Err(PatternError::ControlCharacter { field });
        }
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if c == '*' && out.ends_with('*') {
                continue;
            }
            out.push(c);
        }
        let count = out.matches('*').count();
        if count > MAX_WILDCARDS {
            return Err(PatternError::TooManyWildcards { field, count });
        }
        Ok(PagePattern(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn matches(&self, page: &str) -> bool {
        matches(&self.0, page)
    }
}

/// Whether `page` matches `pattern`, where `*` matches any run of characters
/// and everything else itself. Linear in both lengths, whatever the pattern
/// (patterns stored before they were checked included).
pub fn matches(pattern: &str, page: &str) -> bool {
    let mut pieces = pattern.split('*');
    // `split` always yields at least one piece.
    let first = pieces.next().unwrap_or("");
    let Some(rest) = page.strip_prefix(first) else {
        return false;
    };
    let middle: Vec<&str> = pieces.collect();
    let Some((last, middle)) = middle.split_last() else {
        // No `*`: the page is the pattern.
        return rest.is_empty();
    };
    // The last piece is anchored at the end; what is left between the first
    // and the last must hold the middle pieces in order. Taking each at its
    // leftmost place leaves the most room for the next, so one pass decides.
    let Some(mut between) = rest.strip_suffix(last) else {
        return false;
    };
    for piece in middle {
        match between.find(piece) {
            Some(at) => between = &between[at + piece.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious backtracking definition, for comparison on small inputs.
    fn reference(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len()).any(|i| reference(rest, &s[i..])),
            Some((c, rest)) => s.first() == Some(c) && reference(rest, &s[1..]),
        }
    }

    #[test]
    fn stars_match_any_run_and_the_rest_matches_itself() {
        for (pattern, page, expected) in [
            ("/pricing", "/pricing", true),
            ("/pricing", "/pricing/x", false),
            ("/property/*", "/property/42", true),
            ("/property/*", "/property/", true),
            ("/property/*", "/property", false),
            ("/p*/x", "/pa/b/x", true),
            ("/p*/x", "/p/x", true),
            ("*", "", true),
            ("*a*a", "aa", true),
            ("*a*a", "a", false),
            ("/a*ab", "/ab", false),
            ("/*z*z*q", "/zzq", true),
            ("/*z*z*q", "/zq", false),
            ("/é*", "/été", true),
        ] {
            assert_eq!(matches(pattern, page), expected, "{pattern} against {page}");
            assert_eq!(
                reference(pattern.as_bytes(), page.as_bytes()),
                expected,
                "reference: {pattern} against {page}"
            );
        }
    }

    #[test]
    fn agrees_with_the_backtracking_definition_on_every_small_case() {
        // Every pattern and page of up to 5 characters over {a, b, *} / {a, b}.
        fn all(alphabet: &[char], max: usize) -> Vec<String> {
            let mut out = vec![String::new()];
            let mut last = vec![String::new()];
            for _ in 0..max {
                let next: Vec<String> = last
                    .iter()
                    .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                    .collect();
                out.extend(next.iter().cloned());
                last = next;
            }
            out
        }
        let pages = all(&['a', 'b'], 5);
        for pattern in all(&['a', 'b', '*'], 5) {
            for page in &pages {
                assert_eq!(
                    matches(&pattern, page),
                    reference(pattern.as_bytes(), page.as_bytes()),
                    "{pattern:?} against {page:?}"
                );
            }
        }
    }

    #[test]
    fn the_pathological_pattern_is_answered_at_once() {
        // With backtracking this is about 10^27 steps.
        let page = format!("/{}", "z".repeat(100_000));
        assert!(!matches("/*z*z*z*z*z*z*z*z*q", &page));
        assert!(matches("/*z*z*z*z*z*z*z*z*", &page));
    }

    #[test]
    fn patterns_are_bounded_on_both_sides() {
        let at_most = format!("/{}", "a".repeat(MAX_PATTERN_LEN - 1));
        assert!(PagePattern::parse("page", &at_most).is_ok());
        let over = format!("/{}", "a".repeat(MAX_PATTERN_LEN));
        assert_eq!(
            PagePattern::parse("page", &over),
            Err(PatternError::TooLong {
                field: "page",
                len: MAX_PATTERN_LEN + 1
            })
        );
        let stars = |n: usize| format!("/{}", "*a".repeat(n));
        assert!(PagePattern::parse("page", &stars(MAX_WILDCARDS)).is_ok());
        assert_eq!(
            PagePattern::parse("page", &stars(MAX_WILDCARDS + 1)),
            Err(PatternError::TooManyWildcards {
                field: "page",
                count: MAX_WILDCARDS + 1
            })
        );
        // Runs of stars count once.
        let run = PagePattern::parse("page", "/a****b").unwrap();
        assert_eq!(run.as_str(), "/a*b");
        let e = PagePattern::parse("filters.page", "pricing").unwrap_err();
        assert!(e.to_string().contains("`filters.page` is a path"), "{e}");
        assert!(PagePattern::parse("page", "/a\0b").is_err());
        assert!(PagePattern::parse("page", "*/checkout").is_ok());
    }
}
