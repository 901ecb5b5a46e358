//! Saved insights and boards on PostgreSQL; a board's items are a `BIGINT[]`.

use postgres::Row;

use super::PgStore;
use crate::insights::boards::{Board, Kind, SavedInsight};
use crate::{StoreError, StoreResult};

const SAVED_COLUMNS: &str = "id, project_id, name, kind, query, days, created_at, updated_at";
const BOARD_COLUMNS: &str =
    "id, project_id, name, items, share_hash IS NOT NULL, created_at, updated_at";

fn saved_from_row(r: &Row) -> StoreResult<SavedInsight> {
    let kind: String = r.get(3);
    Ok(SavedInsight {
        id: r.get(0),
        project_id: r.get(1),
        name: r.get(2),
        kind: Kind::from_stored(&kind)
            .ok_or_else(|| StoreError::Database(format!("unknown insight kind {kind:?}")))?,
        query: r.get(4),
        days: r.get(5),
        created_at: r.get(6),
        updated_at: r.get(7),
    })
}

fn board_from_row(r: &Row) -> Board {
    Board {
        id: r.get(0),
        project_id: r.get(1),
        name: r.get(2),
        items: r.get(3),
        shared: r.get(4),
        created_at: r.get(5),
        updated_at: r.get(6),
    }
}

impl crate::backend::BoardStore for PgStore {
    fn create_saved_insight(
        &self,
        s: &SavedInsight,
        max: usize,
    ) -> StoreResult<Option<SavedInsight>> {
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        let row = self.conn()?.query_opt(
            "INSERT INTO saved_insights (project_id, name, kind, query, days, created_at,
                 updated_at)
             SELECT $1, $2, $3, $4, $5, $6, $6
             WHERE (SELECT count(*) FROM saved_insights WHERE project_id = $1) < $7
             RETURNING id",
            &[
                &s.project_id,
                &s.name,
                &s.kind.as_str(),
                &s.query,
                &s.days,
                &s.created_at,
                &max,
            ],
        )?;
        Ok(row.map(|r| SavedInsight {
            id: r.get(0),
            updated_at: s.created_at,
            ..s.clone()
        }))
    }

    fn saved_insight(&self, project_id: i64, id: i64) -> StoreResult<Option<SavedInsight>> {
        self.conn()?
            .query_opt(
                &format!(
                    "SELECT {SAVED_COLUMNS} FROM saved_insights WHERE project_id = $1 AND id = $2"
                ),
                &[&project_id, &id],
            )?
            .as_ref()
            .map(saved_from_row)
            .transpose()
    }

    fn saved_insights(&self, project_id: i64) -> StoreResult<Vec<SavedInsight>> {
        self.conn()?
            .query(
                &format!(
                    "SELECT {SAVED_COLUMNS} FROM saved_insights WHERE project_id = $1 ORDER BY id"
                ),
                &[&project_id],
            )?
            .iter()
            .map(saved_from_row)
            .collect()
    }

    fn update_saved_insight(&self, s: &SavedInsight) -> StoreResult<Option<SavedInsight>> {
        self.conn()?
            .query_opt(
                &format!(
                    "UPDATE saved_insights SET name = $3, kind = $4, query = $5, days = $6,
                         updated_at = $7
                     WHERE project_id = $1 AND id = $2
                     RETURNING {SAVED_COLUMNS}"
                ),
                &[
                    &s.project_id,
                    &s.id,
                    &s.name,
                    &s.kind.as_str(),
                    &s.query,
                    &s.days,
                    &s.updated_at,
                ],
            )?
            .as_ref()
            .map(saved_from_row)
            .transpose()
    }

    fn delete_saved_insight(&self, project_id: i64, id: i64) -> StoreResult<bool> {
        Ok(self.conn()?.execute(
            "DELETE FROM saved_insights WHERE project_id = $1 AND id = $2",
            &[&project_id, &id],
        )? > 0)
    }

    fn create_board(&self, b: &Board, max: usize) -> StoreResult<Option<Board>> {
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        let row = self.conn()?.query_opt(
            "INSERT INTO boards (project_id, name, items, created_at, updated_at)
             SELECT $1, $2, $3, $4, $4
             WHERE (SELECT count(*) FROM boards WHERE project_id = $1) < $5
             RETURNING id",
            &[&b.project_id, &b.name, &b.items, &b.created_at, &max],
        )?;
        Ok(row.map(|r| Board {
            id: r.get(0),
            shared: false,
            updated_at: b.created_at,
            ..b.clone()
        }))
    }

    fn board(&self, project_id: i64, id: i64) -> StoreResult<Option<Board>> {
        Ok(self
            .conn()?
            .query_opt(
                &format!("SELECT {BOARD_COLUMNS} FROM boards WHERE project_id = $1 AND id = $2"),
                &[&project_id, &id],
            )?
            .as_ref()
            .map(board_from_row))
    }

    fn boards(&self, project_id: i64) -> StoreResult<Vec<Board>> {
        Ok(self
            .conn()?
            .query(
                &format!("SELECT {BOARD_COLUMNS} FROM boards WHERE project_id = $1 ORDER BY id"),
                &[&project_id],
            )?
            .iter()
            .map(board_from_row)
            .collect())
    }

    fn update_board(&self, b: &Board) -> StoreResult<Option<Board>> {
        Ok(self
            .conn()?
            .query_opt(
                &format!(
                    "UPDATE boards SET name = $3, items = $4, updated_at = $5
                     WHERE project_id = $1 AND id = $2
                     RETURNING {BOARD_COLUMNS}"
                ),
                &[&b.project_id, &b.id, &b.name, &b.items, &b.updated_at],
            )?
            .as_ref()
            .map(board_from_row))
    }

    fn delete_board(&self, project_id: i64, id: i64) -> StoreResult<bool> {
        Ok(self.conn()?.execute(
            "DELETE FROM boards WHERE project_id = $1 AND id = $2",
            &[&project_id, &id],
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
            "UPDATE boards SET share_hash = $3, updated_at = $4 WHERE project_id = $1 AND id = $2",
            &[&project_id, &id, &hash, &now],
        )? > 0)
    }

    fn shared_board(&self, hash: &str) -> StoreResult<Option<Board>> {
        Ok(self
            .conn()?
            .query_opt(
                &format!("SELECT {BOARD_COLUMNS} FROM boards WHERE share_hash = $1"),
                &[&hash],
            )?
            .as_ref()
            .map(board_from_row))
    }
}
