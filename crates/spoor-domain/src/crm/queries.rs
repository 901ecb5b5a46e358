//! The contacts and tasks lists' queries, in the store-neutral form each
//! backend turns into SQL, and a task's changes.

use super::*;

/// How the contacts list is sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactSort {
    Score,
    LastActivity,
    Created,
    Name,
    Revenue,
}

impl ContactSort {
    pub fn parse(s: &str) -> Result<ContactSort, String> {
        match s {
            "score" => Ok(ContactSort::Score),
            "last_activity" => Ok(ContactSort::LastActivity),
            "created" => Ok(ContactSort::Created),
            "name" => Ok(ContactSort::Name),
            "revenue" => Ok(ContactSort::Revenue),
            other => Err(format!(
                "sort {other:?} is not one of score, last_activity, created, name, revenue"
            )),
        }
    }

    /// The column, the same on both backends.
    pub fn column(self) -> &'static str {
        match self {
            ContactSort::Score => "score_norm",
            ContactSort::LastActivity => "last_activity",
            ContactSort::Created => "created_at",
            ContactSort::Name => "sort_name",
            ContactSort::Revenue => "total_revenue",
        }
    }
}

/// What the contacts list sorts by name: the name, else the email, lowercase.
/// `changed_columns` works it out only when the first or last name or the
/// email changed: a field added here goes into its check too.
pub fn sort_name(c: &Contact) -> String {
    c.name()
        .or_else(|| c.email.clone())
        .unwrap_or_default()
        .to_lowercase()
}

/// A contacts-list query, with scores already scaled to stored values.
#[derive(Clone, Debug)]
pub struct ContactQuery {
    pub project_id: i64,
    /// Lowercase text to find in name, email, phone or user id.
    pub search: Option<String>,
    pub status: Option<String>,
    pub min_norm: Option<f64>,
    pub max_norm: Option<f64>,
    pub sort: ContactSort,
    pub descending: bool,
    pub limit: i64,
    pub offset: i64,
}

/// One condition of a list query beyond its project; each backend writes
/// its SQL. Only the conditions given are in the statement, so that the
/// planner can use the index that serves them.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    /// A contact's lead status, or a task's status.
    Status(String),
    /// Stored score at least / at most.
    NormAtLeast(f64),
    NormAtMost(f64),
    /// Lowercase text within the contact's search text.
    Contains(String),
    /// A task due at or after / before.
    DueFrom(i64),
    DueBefore(i64),
    /// A task's contact.
    Contact(String),
}

impl ContactQuery {
    pub fn conditions(&self) -> Vec<Cond> {
        let mut c = Vec::new();
        c.extend(self.status.clone().map(Cond::Status));
        c.extend(self.min_norm.map(Cond::NormAtLeast));
        c.extend(self.max_norm.map(Cond::NormAtMost));
        c.extend(self.search.clone().map(Cond::Contains));
        c
    }
}

impl TaskQuery {
    pub fn conditions(&self) -> Vec<Cond> {
        let mut c = Vec::new();
        c.extend(self.status.clone().map(Cond::Status));
        c.extend(self.due_from.map(Cond::DueFrom));
        c.extend(self.due_to.map(Cond::DueBefore));
        c.extend(self.contact_id.clone().map(Cond::Contact));
        c
    }
}

/// A tasks query.
#[derive(Clone, Debug, Default)]
pub struct TaskQuery {
    pub project_id: i64,
    pub status: Option<String>,
    /// Open tasks due in `[from, to)`.
    pub due_from: Option<i64>,
    pub due_to: Option<i64>,
    pub contact_id: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// A change to a task: the fields sent, a field sent as null cleared.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskChange {
    /// `open` or `done`.
    #[serde(default)]
    pub status: Option<String>,
    /// `Some(None)` clears it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Option<String>>,
    /// ms since the epoch.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub due_at: Option<Option<i64>>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

impl TaskChange {
    /// The task after the change; `Err` says what to fix.
    pub fn apply(&self, task: &Task, now: i64) -> Result<Task, String> {
        let mut t = task.clone();
        if let Some(status) = &self.status {
            match status.as_str() {
                "done" if t.status != "done" => {
                    t.status = "done".into();
                    t.completed_at = Some(now);
                }
                "open" => {
                    t.status = "open".into();
                    t.completed_at = None;
                }
                "done" => {}
                other => return Err(format!("status {other:?} is not open or done")),
            }
        }
        if let Some(a) = &self.assignee {
            t.assignee = a
                .as_ref()
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty());
        }
        if let Some(d) = self.due_at {
            t.due_at = d;
        }
        if let Some(p) = &self.priority {
            t.priority = Priority::parse(p)?.as_str().into();
        }
        if let Some(title) = &self.title {
            let title = title.trim();
            if title.is_empty() || title.chars().count() > 200 {
                return Err("a task needs a title of 1 to 200 characters".into());
            }
            t.title = title.to_string();
        }
        Ok(t)
    }
}
