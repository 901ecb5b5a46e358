//! Saved insights and boards on SQLite (in `spoor.db`); a board's items are a
//! JSON array of ids.

use rusqlite::{OptionalExtension, Row, params};

use super::SqliteStore;
use crate::insights::boards::{Board, Kind, SavedInsight};
use crate::{StoreError, StoreResult};

const SAVED_COLUMNS: &str = "id, project_id, name, kind, query, days, created_at, updated_at";
const BOARD_COLUMNS: &str =
    "id, project_id, name, items, share_hash IS NOT NULL, created_at, updated_at";

fn saved_from_row(r: &Row) -> rusqlite::Result<SavedInsight> {
    let kind: String = r.get(3)?;
    Ok(SavedInsight {
        id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        kind: Kind::from_stored(&kind).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                3,
                rusqlite::types::Type::Text,
                format!("unknown insight kind {kind:?}").into(),
            )
        })?,
        query: r.get(4)?,
        days: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

fn board_from_row(r: &Row) -> rusqlite::Result<Board> {
    let items: String = r.get(3)?;
    Ok(Board {
        id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        items: serde_json::from_str(&items).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, e.into())
        })?,
        shared: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

fn items_json(items: &[i64]) -> StoreResult<String> {
    serde_json::to_string(items).map_err(|e| StoreError::Invalid(e.to_string()))
}

impl crate::backend::BoardStore for SqliteStore {
    fn create_saved_insight(
        &self,
        s: &SavedInsight,
        max: usize,
    ) -> StoreResult<Option<SavedInsight>> {
        // The count and the insert are one statement, so two requests cannot
        // both take the last place.
        let id: Option<i64> = self
            .conn()?
            .query_row(
                "INSERT INTO saved_insights (project_id, name, kind, query, days, created_at,
                     updated_at)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?6
                 WHERE (SELECT count(*) FROM saved_insights WHERE project_id = ?1) < ?7
                 RETURNING id",
                params![
                    s.project_id,
                    s.name,
                    s.kind.as_str(),
                    s.query,
                    s.days,
                    s.created_at,
                    i64::try_from(max).unwrap_or(i64::MAX)
                ],
                |r| r.get(0),
            )
            .optional()?;
        Ok(id.map(|id| SavedInsight {
            id,
            updated_at: s.created_at,
            ..s.clone()
        }))
    }

    fn saved_insight(&self, project_id: i64, id: i64) -> StoreResult<Option<SavedInsight>> {
        Ok(self
            .conn()?
            .query_row(
                &format!(
                    "SELECT {SAVED_COLUMNS} FROM saved_insights WHERE project_id = ?1 AND id = ?2"
                ),
                params![project_id, id],
                saved_from_row,
            )
            .optional()?)
    }

    fn saved_insights(&self, project_id: i64) -> StoreResult<Vec<SavedInsight>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {SAVED_COLUMNS} FROM saved_insights WHERE project_id = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([project_id], saved_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn update_saved_insight(&self, s: &SavedInsight) -> StoreResult<Option<SavedInsight>> {
        Ok(self
            .conn()?
            .query_row(
                &format!(
                    "UPDATE saved_insights SET name = ?3, kind = ?4, query = ?5, days = ?6,
                         updated_at = ?7
                     WHERE project_id = ?1 AND id = ?2
                     RETURNING {SAVED_COLUMNS}"
                ),
                params![
                    s.project_id,
                    s.id,
                    s.name,
                    s.kind.as_str(),
                    s.query,
                    s.days,
                    s.updated_at
                ],
                saved_from_row,
            )
            .optional()?)
    }

    fn delete_saved_insight(&self, project_id: i64, id: i64) -> StoreResult<bool> {
        Ok(self.conn()?.execute(
            "DELETE FROM saved_insights WHERE project_id = ?1 AND id = ?2",
            params![project_id, id],
        )? > 0)
    }

    fn create_board(&self, b: &Board, max: usize) -> StoreResult<Option<Board>> {
        let id: Option<i64> = self
            .conn()?
            .query_row(
                "INSERT INTO boards (project_id, name, items, created_at, updated_at)
                 SELECT ?1, ?2, ?3, ?4, ?4
                 WHERE (SELECT count(*) FROM boards WHERE project_id = ?1) < ?5
                 RETURNING id",
                params![
                    b.project_id,
                    b.name,
                    items_json(&b.items)?,
                    b.created_at,
                    i64::try_from(max).unwrap_or(i64::MAX)
                ],
                |r| r.get(0),
            )
            .optional()?;
        Ok(id.map(|id| Board {
            id,
            shared: false,
            updated_at: b.created_at,
            ..b.clone()
        }))
    }

    fn board(&self, project_id: i64, id: i64) -> StoreResult<Option<Board>> {
        Ok(self
            .conn()?
            .query_row(
                &format!("SELECT {BOARD_COLUMNS} FROM boards WHERE project_id = ?1 AND id = ?2"),
                params![project_id, id],
                board_from_row,
            )
            .optional()?)
    }

    fn boards(&self, project_id: i64) -> StoreResult<Vec<Board>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {BOARD_COLUMNS} FROM boards WHERE project_id = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([project_id], board_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn update_board(&self, b: &Board) -> StoreResult<Option<Board>> {
        Ok(self
            .conn()?
            .query_row(
                &format!(
                    "UPDATE boards SET name = ?3, items = ?4, updated_at = ?5
                     WHERE project_id = ?1 AND id = ?2
                     RETURNING {BOARD_COLUMNS}"
                ),
                params![
                    b.project_id,
                    b.id,
                    b.name,
                    items_json(&b.items)?,
                    b.updated_at
                ],
                board_from_row,
            )
            .optional()?)
    }

    fn delete_board(&self, project_id: i64, id: i64) -> StoreResult<bool> {
        Ok(self.conn()?.execute(
            "DELETE FROM boards WHERE project_id = ?1 AND id = ?2",
            params![project_id, id],
        )? > 0)
    }

    fn set_board_share(
        &self,
        project_id: i64,
        id: i64,
        hash: Option<&str>,
        now: i64,
    ) -> StoreResult<bool> {
        Ok(self.conn()?.execute(
            "UPDATE boards SET share_hash = ?3, updated_at = ?4 WHERE project_id = ?1 AND id = ?2",
            params![project_id, id, hash, now],
        )? > 0)
    }

    fn shared_board(&self, hash: &str) -> StoreResult<Option<Board>> {
        Ok(self
            .conn()?
            .query_row(
                &format!("SELECT {BOARD_COLUMNS} FROM boards WHERE share_hash = ?1"),
                [hash],
                board_from_row,
            )
            .optional()?)
    }
}
