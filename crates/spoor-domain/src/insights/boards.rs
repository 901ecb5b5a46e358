//! Saved insights and boards: a question kept under a name, shown over the
//! last so many days, and boards that arrange saved insights in order and may
//! be shared as a read-only link.
//!
//! A saved insight keeps the question as its own endpoint takes it, less the
//! range: a trend's query string, or the JSON body of a funnel, retention or
//! paths question. The server checks it by asking it before it is stored, so
//! what is stored always parses; the rules here are the bounds on names,
//! ranges, sizes and counts, which both stores and the server share.
//!
//! A shared board is found by the SHA-256 of its link's token (like keys, the
//! token itself is never stored); a new link replaces the old one, and revoking
//! forgets the hash.

use serde::{Deserialize, Serialize};
use spoor_core::range::MAX_REPORT_DAYS;

use super::{InsightError, refuse};

/// Longest name of a saved insight or board, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Largest stored question, in bytes of its text.
pub const MAX_QUERY_BYTES: usize = 16 * 1024;
/// Most saved insights a project keeps.
pub const MAX_SAVED_PER_PROJECT: usize = 1_000;
/// Most boards a project keeps.
pub const MAX_BOARDS_PER_PROJECT: usize = 100;
/// Most insights pinned to one board.
pub const MAX_BOARD_ITEMS: usize = 50;

/// Which endpoint a saved question belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = InsightKind)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Trends,
    Funnel,
    Retention,
    Paths,
    Revenue,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Trends => "trends",
            Kind::Funnel => "funnel",
            Kind::Retention => "retention",
            Kind::Paths => "paths",
            Kind::Revenue => "revenue",
        }
    }

    /// The kind a stored name gives; `None` for a name this version does not know.
    pub fn from_stored(s: &str) -> Option<Kind> {
        match s {
            "trends" => Some(Kind::Trends),
            "funnel" => Some(Kind::Funnel),
            "retention" => Some(Kind::Retention),
            "paths" => Some(Kind::Paths),
            "revenue" => Some(Kind::Revenue),
            _ => None,
        }
    }

    /// Whether its question is a query string (a GET endpoint's), not a JSON body.
    pub fn takes_query_string(self) -> bool {
        matches!(self, Kind::Trends | Kind::Revenue)
    }

    /// The days a question shows when it is saved without saying: what its
    /// endpoint assumes without a `from`.
    pub fn default_days(self) -> i64 {
        match self {
            Kind::Trends | Kind::Paths => 7,
            Kind::Funnel | Kind::Revenue => 30,
            Kind::Retention => 56,
        }
    }
}

/// A saved insight as stored. `query` is the question's text: a trend's or
/// revenue's query string, or another kind's JSON body, without `from` and `to`.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedInsight {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub kind: Kind,
    pub query: String,
    /// The range shown: the last `days` days.
    pub days: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A board as stored: its saved insights' ids, in the order shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Board {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub items: Vec<i64>,
    /// Whether a share link works now.
    pub shared: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A name, trimmed: 1 to [`MAX_TITLE_CHARS`] characters, no control characters.
pub fn title(field: &'static str, name: &str) -> Result<String, InsightError> {
    let name = name.trim();
    if name.is_empty() {
        return refuse(format!("`{field}` must not be empty"));
    }
    if name.chars().count() > MAX_TITLE_CHARS {
        return refuse(format!("`{field}` is at most {MAX_TITLE_CHARS} characters"));
    }
    if name.chars().any(char::is_control) {
        return refuse(format!("`{field}` must not hold control characters"));
    }
    Ok(name.to_string())
}

/// The days a saved insight shows: 1 to [`MAX_REPORT_DAYS`].
pub fn days(given: Option<i64>, kind: Kind) -> Result<i64, InsightError> {
    let days = given.unwrap_or_else(|| kind.default_days());
    if !(1..=MAX_REPORT_DAYS).contains(&days) {
        return refuse(format!("`days` is 1 to {MAX_REPORT_DAYS}, not {days}"));
    }
    Ok(days)
}

/// A question's stored text: at most [`MAX_QUERY_BYTES`].
pub fn query_text(text: String) -> Result<String, InsightError> {
    if text.len() > MAX_QUERY_BYTES {
        return refuse(format!(
            "a saved question is at most {MAX_QUERY_BYTES} bytes; this one is {}",
            text.len()
        ));
    }
    Ok(text)
}

/// A board's items: at most [`MAX_BOARD_ITEMS`], each once, each one of
/// `saved` (the project's saved insights' ids).
pub fn items(given: &[i64], saved: &[i64]) -> Result<Vec<i64>, InsightError> {
    if given.len() > MAX_BOARD_ITEMS {
        return refuse(format!(
            "a board holds at most {MAX_BOARD_ITEMS} insights; this one has {}",
            given.len()
        ));
    }
    let mut out: Vec<i64> = Vec::with_capacity(given.len());
    for &id in given {
        if out.contains(&id) {
            return refuse(format!("`items` holds insight {id} twice"));
        }
        if !saved.contains(&id) {
            return refuse(format!(
                "`items`: {id} is not a saved insight of this project"
            ));
        }
        out.push(id);
    }
    Ok(out)
}

/// Why a project that keeps `max` of something already may not add one: the
/// stores count and insert in one statement and answer nothing when full.
pub fn full(max: usize, what: &str) -> InsightError {
    InsightError(format!(
        "a project keeps at most {max} {what}; delete one first"
    ))
}

/// The board's items that still name a saved insight (one deleted since it
/// was pinned drops out), in order.
pub fn live_items(board: &Board, saved: &[SavedInsight]) -> Vec<SavedInsight> {
    board
        .items
        .iter()
        .filter_map(|id| saved.iter().find(|s| s.id == *id).cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_and_bounded_on_both_sides() {
        assert_eq!(title("name", "  Revenue ").unwrap(), "Revenue");
        assert!(title("name", "   ").is_err());
        let longest = "é".repeat(MAX_TITLE_CHARS);
        assert_eq!(title("name", &longest).unwrap(), longest);
        let e = title("name", &format!("{longest}x")).unwrap_err();
        assert!(e.0.contains("at most 200"), "{e}");
        assert!(title("name", "a\u{7}b").is_err());
    }

    #[test]
    fn days_default_per_kind_and_are_bounded_on_both_sides() {
        assert_eq!(days(None, Kind::Retention).unwrap(), 56);
        assert_eq!(days(None, Kind::Trends).unwrap(), 7);
        assert_eq!(days(Some(1), Kind::Funnel).unwrap(), 1);
        assert!(days(Some(0), Kind::Funnel).is_err());
        assert_eq!(
            days(Some(MAX_REPORT_DAYS), Kind::Funnel).unwrap(),
            MAX_REPORT_DAYS
        );
        let e = days(Some(MAX_REPORT_DAYS + 1), Kind::Funnel).unwrap_err();
        assert!(e.0.contains("`days`"), "{e}");
    }

    #[test]
    fn queries_are_bounded_on_both_sides() {
        assert!(query_text("a".repeat(MAX_QUERY_BYTES)).is_ok());
        assert!(query_text("a".repeat(MAX_QUERY_BYTES + 1)).is_err());
    }

    #[test]
    fn items_are_the_projects_each_once_and_bounded() {
        let saved: Vec<i64> = (1..=60).collect();
        assert_eq!(items(&[3, 1, 2], &saved).unwrap(), vec![3, 1, 2]);
        assert!(items(&[1, 1], &saved).unwrap_err().0.contains("twice"));
        assert!(items(&[61], &saved).unwrap_err().0.contains("61"));
        let most: Vec<i64> = (1..=MAX_BOARD_ITEMS as i64).collect();
        assert_eq!(items(&most, &saved).unwrap().len(), MAX_BOARD_ITEMS);
        let over: Vec<i64> = (1..=MAX_BOARD_ITEMS as i64 + 1).collect();
        assert!(items(&over, &saved).unwrap_err().0.contains("at most 50"));
    }

    #[test]
    fn deleted_insights_drop_out_of_a_board_in_order() {
        let saved = |id| SavedInsight {
            id,
            project_id: 1,
            name: format!("s{id}"),
            kind: Kind::Trends,
            query: "event=a".into(),
            days: 7,
            created_at: 0,
            updated_at: 0,
        };
        let board = Board {
            id: 1,
            project_id: 1,
            name: "b".into(),
            items: vec![3, 2, 1],
            shared: false,
            created_at: 0,
            updated_at: 0,
        };
        let live = live_items(&board, &[saved(1), saved(3)]);
        assert_eq!(live.iter().map(|s| s.id).collect::<Vec<_>>(), vec![3, 1]);
    }

    #[test]
    fn kinds_round_trip_their_stored_names() {
        for k in [
            Kind::Trends,
            Kind::Funnel,
            Kind::Retention,
            Kind::Paths,
            Kind::Revenue,
        ] {
            assert_eq!(Kind::from_stored(k.as_str()), Some(k));
        }
        assert_eq!(Kind::from_stored("lifecycle"), None);
    }
}
