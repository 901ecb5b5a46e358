//! A project's goals and segments on SQLite (in `spoor.db`), each kind in its
//! own table (`Defined::table`, a constant, never input).

use rusqlite::{OptionalExtension, Row, params};

use super::SqliteStore;
use crate::StoreResult;
use crate::insights::definitions::{Defined, Definition};

const COLUMNS: &str = "id, project_id, name, definition, created_at, updated_at";

fn from_row(r: &Row) -> rusqlite::Result<Definition> {
    Ok(Definition {
        id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        definition: r.get(3)?,
        created_at: r.get(4)?,
        updated_at: r.get(5)?,
    })
}

impl crate::backend::DefinitionStore for SqliteStore {
    fn create_definition(&self, of: Defined, d: &Definition) -> StoreResult<Option<Definition>> {
        let table = of.table();
        // The count and the insert are one statement: the last place is
        // taken once.
        let id: Option<i64> = self
            .conn()?
            .query_row(
                &format!(
                    "INSERT INTO {table} (project_id, name, definition, created_at, updated_at)
                     SELECT ?1, ?2, ?3, ?4, ?4
                     WHERE (SELECT count(*) FROM {table} WHERE project_id = ?1) < ?5
                     RETURNING id"
                ),
                params![
                    d.project_id,
                    d.name,
                    d.definition,
                    d.created_at,
                    i64::try_from(of.max()).unwrap_or(i64::MAX)
                ],
                |r| r.get(0),
            )
            .optional()?;
        Ok(id.map(|id| Definition {
            id,
            updated_at: d.created_at,
            ..d.clone()
        }))
    }

    fn definitions(&self, of: Defined, project_id: i64) -> StoreResult<Vec<Definition>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM {} WHERE project_id = ?1 ORDER BY id",
            of.table()
        ))?;
        let rows = stmt.query_map([project_id], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn update_definition(&self, of: Defined, d: &Definition) -> StoreResult<Option<Definition>> {
        Ok(self
            .conn()?
            .query_row(
                &format!(
                    "UPDATE {} SET name = ?3, definition = ?4, updated_at = ?5
                     WHERE project_id = ?1 AND id = ?2
                     RETURNING {COLUMNS}",
                    of.table()
                ),
                params![d.project_id, d.id, d.name, d.definition, d.updated_at],
                from_row,
            )
            .optional()?)
    }

    fn delete_definition(&self, of: Defined, project_id: i64, id: i64) -> StoreResult<bool> {
        Ok(self.conn()?.execute(
            &format!(
                "DELETE FROM {} WHERE project_id = ?1 AND id = ?2",
                of.table()
            ),
            params![project_id, id],
        )? > 0)
    }
}
