//! A project's goals on SQLite (in `spoor.db`).

use rusqlite::{OptionalExtension, Row, params};

use super::SqliteStore;
use crate::StoreResult;
use crate::insights::goals::Goal;

const COLUMNS: &str = "id, project_id, name, definition, created_at, updated_at";

fn goal_from_row(r: &Row) -> rusqlite::Result<Goal> {
    Ok(Goal {
        id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        definition: r.get(3)?,
        created_at: r.get(4)?,
        updated_at: r.get(5)?,
    })
}

impl crate::backend::GoalStore for SqliteStore {
    fn create_goal(&self, g: &Goal, max: usize) -> StoreResult<Option<Goal>> {
        // The count and the insert are one statement: the last place is
        // taken once.
        let id: Option<i64> = self
            .conn()?
            .query_row(
                "INSERT INTO goals (project_id, name, definition, created_at, updated_at)
                 SELECT ?1, ?2, ?3, ?4, ?4
                 WHERE (SELECT count(*) FROM goals WHERE project_id = ?1) < ?5
                 RETURNING id",
                params![
                    g.project_id,
                    g.name,
                    g.definition,
                    g.created_at,
                    i64::try_from(max).unwrap_or(i64::MAX)
                ],
                |r| r.get(0),
            )
            .optional()?;
        Ok(id.map(|id| Goal {
            id,
            updated_at: g.created_at,
            ..g.clone()
        }))
    }

    fn goals(&self, project_id: i64) -> StoreResult<Vec<Goal>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM goals WHERE project_id = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([project_id], goal_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn update_goal(&self, g: &Goal) -> StoreResult<Option<Goal>> {
        Ok(self
            .conn()?
            .query_row(
                &format!(
                    "UPDATE goals SET name = ?3, definition = ?4, updated_at = ?5
                     WHERE project_id = ?1 AND id = ?2
                     RETURNING {COLUMNS}"
                ),
                params![g.project_id, g.id, g.name, g.definition, g.updated_at],
                goal_from_row,
            )
            .optional()?)
    }

    fn delete_goal(&self, project_id: i64, id: i64) -> StoreResult<bool> {
        Ok(self.conn()?.execute(
            "DELETE FROM goals WHERE project_id = ?1 AND id = ?2",
            params![project_id, id],
        )? > 0)
    }
}
