//! Online backups of both files, while the server runs.

use std::path::Path;

use super::SqliteStore;
use crate::{StoreError, StoreResult};

impl SqliteStore {
    /// Writes a consistent copy of the derived file to `derived` and then of
    /// the event log to `log` (both must not exist), each as of its own
    /// moment, with `VACUUM INTO`: it reads one snapshot, so writers go on
    /// meanwhile. The derived file goes first, so the copy's derived rows never
    /// count an event its log lacks; the events written between the two
    /// moments are simply read again by the pipeline after a restore.
    pub(super) fn backup_files(&self, log: &Path, derived: &Path) -> StoreResult<()> {
        let text = |p: &Path| {
            p.to_str()
                .map(str::to_string)
                .ok_or_else(|| StoreError::Invalid(format!("{} is not a UTF-8 path", p.display())))
        };
        let conn = self.conn()?;
        conn.execute("VACUUM derived INTO ?1", [text(derived)?])?;
        conn.execute("VACUUM main INTO ?1", [text(log)?])?;
        Ok(())
    }
}
