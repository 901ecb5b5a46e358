//! A project's goals on PostgreSQL.

use postgres::Row;

use super::PgStore;
use crate::StoreResult;
use crate::insights::goals::Goal;

const COLUMNS: &str = "id, project_id, name, definition, created_at, updated_at";

fn goal_from_row(r: &Row) -> Goal {
    Goal {
        id: r.get(0),
        project_id: r.get(1),
        name: r.get(2),
        definition: r.get(3),
        created_at: r.get(4),
        updated_at: r.get(5),
    }
}

impl crate::backend::GoalStore for PgStore {
    fn create_goal(&self, g: &Goal, max: usize) -> StoreResult<Option<Goal>> {
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        let row = self.conn()?.query_opt(
            "INSERT INTO goals (project_id, name, definition, created_at, updated_at)
             SELECT $1, $2, $3, $4, $4
             WHERE (SELECT count(*) FROM goals WHERE project_id = $1) < $5
             RETURNING id",
            &[&g.project_id, &g.name, &g.definition, &g.created_at, &max],
        )?;
        Ok(row.map(|r| Goal {
            id: r.get(0),
            updated_at: g.created_at,
            ..g.clone()
        }))
    }

    fn goals(&self, project_id: i64) -> StoreResult<Vec<Goal>> {
        Ok(self
            .conn()?
            .query(
                &format!("SELECT {COLUMNS} FROM goals WHERE project_id = $1 ORDER BY id"),
                &[&project_id],
            )?
            .iter()
            .map(goal_from_row)
            .collect())
    }

    fn update_goal(&self, g: &Goal) -> StoreResult<Option<Goal>> {
        Ok(self
            .conn()?
            .query_opt(
                &format!(
                    "UPDATE goals SET name = $3, definition = $4, updated_at = $5
                     WHERE project_id = $1 AND id = $2
                     RETURNING {COLUMNS}"
                ),
                &[&g.project_id, &g.id, &g.name, &g.definition, &g.updated_at],
            )?
            .as_ref()
            .map(goal_from_row))
    }

    fn delete_goal(&self, project_id: i64, id: i64) -> StoreResult<bool> {
        Ok(self.conn()?.execute(
            "DELETE FROM goals WHERE project_id = $1 AND id = $2",
            &[&project_id, &id],
        )? > 0)
    }
}
