//! An upload on its way into the file store: written to a file in a staging
//! directory as its bytes arrive, so that a 200 MB video costs a write buffer
//! in memory, not 200 MB. Checks that need the start of the file (its type)
//! read [`Staged::head`]; the store then takes the whole file
//! ([`super::FileStore::put_staged`]). A staged file that is dropped before
//! the store took it (a refused or broken upload) is removed.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};

use super::FileError;

/// How much of the start of a file is kept in memory for checks of its type.
pub const HEAD: usize = 64;

/// Bytes gathered before a write to disk: a few large writes rather than one
/// per network read.
const WRITE_BUFFER: usize = 256 * 1024;

/// Staged files older than this when the store opens were left by a process
/// that died mid-upload; no upload takes this long (see the body deadline).
const LEFT_OVER: Duration = Duration::from_secs(6 * 60 * 60);

pub struct Staged {
    path: PathBuf,
    file: BufWriter<tokio::fs::File>,
    len: u64,
    head: Vec<u8>,
    /// Set once the store has moved the file where it belongs.
    taken: bool,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> FileError {
    FileError::Io(format!("{what} {}: {e}", path.display()))
}

impl Staged {
    pub(super) async fn create(dir: &Path) -> Result<Staged, FileError> {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| io("cannot create", dir, e))?;
        let path = dir.join(format!("{}.upload", uuid::Uuid::new_v4().simple()));
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| io("cannot create", &path, e))?;
        Ok(Staged {
            path,
            file: BufWriter::with_capacity(WRITE_BUFFER, file),
            len: 0,
            head: Vec::with_capacity(HEAD),
            taken: false,
        })
    }

    /// Appends bytes to the file.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), FileError> {
        if self.head.len() < HEAD {
            let more = (HEAD - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..more]);
        }
        self.file
            .write_all(bytes)
            .await
            .map_err(|e| io("cannot write", &self.path, e))?;
        self.len = self.len.saturating_add(bytes.len() as u64);
        Ok(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first [`HEAD`] bytes (fewer if the file is shorter).
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// Reads the whole file back, for a check that needs every byte of a file
    /// whose size the caller has bounded (a screenshot).
    pub async fn read_all(&mut self) -> Result<Vec<u8>, FileError> {
        self.close(false).await?;
        let mut out = Vec::with_capacity(usize::try_from(self.len).unwrap_or(0));
        tokio::fs::File::open(&self.path)
            .await
            .map_err(|e| io("cannot open", &self.path, e))?
            .read_to_end(&mut out)
            .await
            .map_err(|e| io("cannot read", &self.path, e))?;
        Ok(out)
    }

    /// Flushes what is buffered and, with `durable`, syncs the file to disk.
    /// The file stays open: a check may read it back before it is stored.
    pub(super) async fn close(&mut self, durable: bool) -> Result<(), FileError> {
        self.file
            .flush()
            .await
            .map_err(|e| io("cannot write", &self.path, e))?;
        if durable {
            self.file
                .get_ref()
                .sync_all()
                .await
                .map_err(|e| io("cannot sync", &self.path, e))?;
        }
        Ok(())
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// The file has been moved into the store: nothing is left to remove.
    pub(super) fn taken(&mut self) {
        self.taken = true;
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.taken {
            // Dropped in a request handler: the file is closed with the
            // writer; removing a name is one quick system call.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Removes the staged files a dead process left behind. Best effort: a file
/// that cannot be removed costs space, not correctness.
pub(super) fn sweep(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > LEFT_OVER);
        let ours = entry.file_name().to_string_lossy().ends_with(".upload");
        if old && ours && std::fs::remove_file(entry.path()).is_ok() {
            tracing::info!(
                "removed an upload left unfinished: {}",
                entry.path().display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_staged_file_keeps_its_head_and_length_and_is_removed_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let mut staged = Staged::create(dir.path()).await.unwrap();
        let path = staged.path().to_path_buf();
        staged.write(&[1u8; 40]).await.unwrap();
        staged.write(&[2u8; 40]).await.unwrap();
        assert_eq!(staged.len(), 80);
        assert_eq!(staged.head().len(), HEAD);
        assert_eq!(&staged.head()[38..42], &[1, 1, 2, 2]);
        let all = staged.read_all().await.unwrap();
        assert_eq!(all.len(), 80);
        assert!(path.exists());
        drop(staged);
        assert!(!path.exists(), "a dropped staged file is removed");
    }

    #[tokio::test]
    async fn a_short_file_has_a_short_head() {
        let dir = tempfile::tempdir().unwrap();
        let mut staged = Staged::create(dir.path()).await.unwrap();
        staged.write(b"abc").await.unwrap();
        assert_eq!(staged.head(), b"abc");
        assert!(!staged.is_empty());
    }

    #[test]
    fn sweeping_removes_old_uploads_only() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("a.upload");
        let new = dir.path().join("b.upload");
        let other = dir.path().join("c.txt");
        for p in [&old, &new, &other] {
            std::fs::write(p, b"x").unwrap();
        }
        let long_ago = SystemTime::now() - LEFT_OVER - Duration::from_secs(60);
        for p in [&old, &other] {
            std::fs::File::options()
                .write(true)
                .open(p)
                .unwrap()
                .set_modified(long_ago)
                .unwrap();
        }
        sweep(dir.path());
        assert!(!old.exists());
        assert!(new.exists(), "an upload in progress is kept");
        assert!(other.exists(), "only staged uploads are removed");
    }
}
