//! A project's goals and segments on PostgreSQL, each kind in its own table
//! (`Defined::table`, a constant, never input).

use postgres::Row;

use super::PgStore;
use crate::StoreResult;
use crate::insights::definitions::{Defined, Definition};

const COLUMNS: &str = "id, project_id, name, definition, created_at, updated_at";

fn from_row(r: &Row) -> Definition {
    Definition {
        id: r.get(0),
        project_id: r.get(1),
        name: r.get(2),
        definition: r.get(3),
        created_at: r.get(4),
        updated_at: r.get(5),
    }
}

impl crate::backend::DefinitionStore for PgStore {
    fn create_definition(&self, of: Defined, d: &Definition) -> StoreResult<Option<Definition>> {
        let table = of.table();
        let max = i64::try_from(of.max()).unwrap_or(i64::MAX);
        let row = self.conn()?.query_opt(
            &format!(
                "INSERT INTO {table} (project_id, name, definition, created_at, updated_at)
                 SELECT $1, $2, $3, $4, $4
                 WHERE (SELECT count(*) FROM {table} WHERE project_id = $1) < $5
                 RETURNING id"
            ),
            &[&d.project_id, &d.name, &d.definition, &d.created_at, &max],
        )?;
        Ok(row.map(|r| Definition {
            id: r.get(0),
            updated_at: d.created_at,
            ..d.clone()
        }))
    }

    fn definitions(&self, of: Defined, project_id: i64) -> StoreResult<Vec<Definition>> {
        Ok(self
            .conn()?
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM {} WHERE project_id = $1 ORDER BY id",
                    of.table()
                ),
                &[&project_id],
            )?
            .iter()
            .map(from_row)
            .collect())
    }

    fn update_definition(&self, of: Defined, d: &Definition) -> StoreResult<Option<Definition>> {
        Ok(self
            .conn()?
            .query_opt(
                &format!(
                    "UPDATE {} SET name = $3, definition = $4, updated_at = $5
                     WHERE project_id = $1 AND id = $2
                     RETURNING {COLUMNS}",
                    of.table()
                ),
                &[&d.project_id, &d.id, &d.name, &d.definition, &d.updated_at],
            )?
            .as_ref()
            .map(from_row))
    }

    fn delete_definition(&self, of: Defined, project_id: i64, id: i64) -> StoreResult<bool> {
        Ok(self.conn()?.execute(
            &format!(
                "DELETE FROM {} WHERE project_id = $1 AND id = $2",
                of.table()
            ),
            &[&project_id, &id],
        )? > 0)
    }
}
