//! Files in a local directory. A put writes a temporary file beside the
//! target, fsyncs it, renames it over the target and fsyncs the directory, so a
//! crash leaves either the old file or the whole new one, never a torn one.
//! Uploads are staged in `.staging/` under the root, on the same file system,
//! so storing one is the same rename.

use std::io::Write;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::StreamExt;

use super::{FileError, FileReader, PIECE, Staged, staged};

/// Under the root; no key can name it, since keys never start with a dot.
const STAGING: &str = ".staging";

#[derive(Clone)]
pub struct LocalFiles {
    root: PathBuf,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> FileError {
    FileError::Io(format!("{what} {}: {e}", path.display()))
}

impl LocalFiles {
    pub fn open(root: &Path) -> Result<LocalFiles, FileError> {
        std::fs::create_dir_all(root).map_err(|e| io("cannot create", root, e))?;
        staged::sweep(&root.join(STAGING));
        Ok(LocalFiles {
            root: root.to_path_buf(),
        })
    }

    pub fn describe(&self) -> String {
        format!("directory {}", self.root.display())
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), FileError> {
        let path = self.root.join(key);
        blocking(move || write_durably(&path, &bytes)).await
    }

    pub async fn stage(&self) -> Result<Staged, FileError> {
        Staged::create(&self.root.join(STAGING)).await
    }

    pub async fn put_staged(&self, key: &str, mut staged: Staged) -> Result<(), FileError> {
        staged.close(true).await?;
        let (from, to) = (staged.path().to_path_buf(), self.root.join(key));
        blocking(move || {
            let dir = to.parent().expect("keys have a directory");
            std::fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
            std::fs::rename(&from, &to).map_err(|e| io("cannot rename to", &to, e))?;
            sync_dir(dir)
        })
        .await?;
        staged.taken();
        Ok(())
    }

    pub async fn stream(&self, key: &str) -> Result<FileReader, FileError> {
        let path = self.root.join(key);
        let file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FileError::NotFound(key.to_string()));
            }
            Err(e) => return Err(io("cannot open", &path, e)),
        };
        let len = file
            .metadata()
            .await
            .map_err(|e| io("cannot read", &path, e))?
            .len();
        let bytes = tokio_util::io::ReaderStream::with_capacity(file, PIECE)
            .map(move |r| r.map_err(|e| io("cannot read", &path, e)));
        Ok(FileReader {
            len,
            bytes: Box::pin(bytes),
        })
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, FileError> {
        let path = self.root.join(key);
        let key = key.to_string();
        blocking(move || match std::fs::read(&path) {
            Ok(b) => Ok(Bytes::from(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(FileError::NotFound(key)),
            Err(e) => Err(io("cannot read", &path, e)),
        })
        .await
    }

    pub async fn delete(&self, key: &str) -> Result<(), FileError> {
        let path = self.root.join(key);
        blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("cannot delete", &path, e)),
        })
        .await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, FileError> + Send + 'static,
) -> Result<T, FileError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| FileError::Io(format!("a file task failed: {e}")))?
}

fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let dir = path.parent().expect("keys have a directory");
    std::fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        uuid::Uuid::new_v4().simple()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(|e| io("cannot create", &tmp, e))?;
        f.write_all(bytes)
            .map_err(|e| io("cannot write", &tmp, e))?;
        f.sync_all().map_err(|e| io("cannot sync", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| io("cannot rename to", path, e))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A rename is durable only once its directory is.
fn sync_dir(dir: &Path) -> Result<(), FileError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("cannot sync", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_get_replace_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let files = LocalFiles::open(dir.path()).unwrap();
        files
            .put("p1/a/b.bin", Bytes::from_static(b"one"))
            .await
            .unwrap();
        assert_eq!(files.get("p1/a/b.bin").await.unwrap(), &b"one"[..]);
        files
            .put("p1/a/b.bin", Bytes::from_static(b"two"))
            .await
            .unwrap();
        assert_eq!(files.get("p1/a/b.bin").await.unwrap(), &b"two"[..]);
        // No temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("p1/a"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["b.bin"]);
        files.delete("p1/a/b.bin").await.unwrap();
        assert!(matches!(
            files.get("p1/a/b.bin").await,
            Err(FileError::NotFound(_))
        ));
        files.delete("p1/a/b.bin").await.unwrap();
    }

    #[tokio::test]
    async fn a_staged_upload_is_moved_in_and_read_back_in_pieces() {
        let dir = tempfile::tempdir().unwrap();
        let files = LocalFiles::open(dir.path()).unwrap();
        let mut staged = files.stage().await.unwrap();
        let data: Vec<u8> = (0..PIECE * 2 + 10).map(|i| (i % 251) as u8).collect();
        staged.write(&data[..1000]).await.unwrap();
        staged.write(&data[1000..]).await.unwrap();
        files.put_staged("p1/v/x.webm", staged).await.unwrap();
        let staging: Vec<_> = std::fs::read_dir(dir.path().join(STAGING))
            .unwrap()
            .collect();
        assert!(staging.is_empty(), "the staged file was moved, not copied");
        let reader = files.stream("p1/v/x.webm").await.unwrap();
        assert_eq!(reader.len, data.len() as u64);
        let pieces: Vec<Bytes> = reader.bytes.map(|p| p.unwrap()).collect().await;
        assert!(pieces.len() >= 3 && pieces.iter().all(|p| p.len() <= PIECE));
        assert_eq!(pieces.concat(), data);
        assert!(matches!(
            files.stream("p1/v/none.webm").await,
            Err(FileError::NotFound(_))
        ));
    }
}
