//! The file store: where recordings, screenshots and exported reports keep
//! their bytes. A local directory by default (`local`), or an S3-compatible
//! bucket (`s3`, signing with the keys `credentials` gives) when one is
//! configured; the rest of the server sees only [`FileStore`]. Rows in the
//! store name files by key (`p{project}/...`).
//!
//! `put` returns only once the bytes are durable (fsynced, or acknowledged by
//! the bucket), so an upload is answered 2xx only after its file and its row
//! are both committed.
//!
//! Large files never pass through memory whole: an upload is written to a
//! [`Staged`] file on disk as it arrives and handed to [`FileStore::put_staged`]
//! (a rename in the directory store, a streamed PUT to a bucket), and a file
//! is read back as a stream of pieces ([`FileStore::stream`]).

mod credentials;
mod local;
mod s3;
mod staged;

use std::path::PathBuf;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;

pub use credentials::{AwsEnv, S3Credentials};
pub use local::LocalFiles;
pub use s3::{S3Config, S3Files};
pub use staged::Staged;

/// A file's bytes in pieces of at most [`PIECE`] bytes, as they are read.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, FileError>> + Send>>;

/// The size of the pieces a file is read in: large enough that a 200 MB video
/// is a few thousand reads, small enough that many readers at once cost little.
pub const PIECE: usize = 64 * 1024;

/// A file opened for reading: its length and its bytes.
pub struct FileReader {
    pub len: u64,
    pub bytes: ByteStream,
}

/// What went wrong with a file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("no file {0}")]
    NotFound(String),
    #[error("file key {0:?} is not allowed")]
    BadKey(String),
    #[error("file store: {0}")]
    Io(String),
}

/// Where files go.
#[derive(Clone, Debug)]
pub enum FilesConfig {
    Local(PathBuf),
    S3(S3Config),
}

#[derive(Clone)]
pub enum FileStore {
    Local(LocalFiles),
    S3(S3Files),
}

impl FileStore {
    pub fn open(config: &FilesConfig) -> Result<FileStore, FileError> {
        Ok(match config {
            FilesConfig::Local(dir) => FileStore::Local(LocalFiles::open(dir)?),
            FilesConfig::S3(c) => FileStore::S3(S3Files::new(c)?),
        })
    }

    /// A description for logs.
    pub fn describe(&self) -> String {
        match self {
            FileStore::Local(f) => f.describe(),
            FileStore::S3(f) => f.describe(),
        }
    }

    /// Stores `bytes` under `key`, replacing what was there; returns once durable.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), FileError> {
        check_key(key)?;
        match self {
            FileStore::Local(f) => f.put(key, bytes).await,
            FileStore::S3(f) => f.put(key, bytes).await,
        }
    }

    /// Starts writing an upload to disk, beside where the store can take it
    /// from without a copy (the directory store) or stream it from (a bucket).
    pub async fn stage(&self) -> Result<Staged, FileError> {
        match self {
            FileStore::Local(f) => f.stage().await,
            FileStore::S3(f) => f.stage().await,
        }
    }

    /// Stores a staged file under `key`, replacing what was there; returns once
    /// durable. The staged file is used up either way.
    pub async fn put_staged(&self, key: &str, staged: Staged) -> Result<(), FileError> {
        check_key(key)?;
        match self {
            FileStore::Local(f) => f.put_staged(key, staged).await,
            FileStore::S3(f) => f.put_staged(key, staged).await,
        }
    }

    /// Opens a file to read it piece by piece, never whole.
    pub async fn stream(&self, key: &str) -> Result<FileReader, FileError> {
        check_key(key)?;
        match self {
            FileStore::Local(f) => f.stream(key).await,
            FileStore::S3(f) => f.stream(key).await,
        }
    }

    /// The whole file in memory: only for files whose size is bounded small
    /// (a recording chunk, a report being emailed).
    pub async fn get(&self, key: &str) -> Result<Bytes, FileError> {
        check_key(key)?;
        match self {
            FileStore::Local(f) => f.get(key).await,
            FileStore::S3(f) => f.get(key).await,
        }
    }

    /// Removes a file; a missing one is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), FileError> {
        check_key(key)?;
        match self {
            FileStore::Local(f) => f.delete(key).await,
            FileStore::S3(f) => f.delete(key).await,
        }
    }

    /// Removes every file in `keys`, logging those that could not be removed:
    /// their rows are gone already, so a leftover costs space, not correctness.
    pub async fn delete_all(&self, keys: &[String]) -> usize {
        let mut deleted = 0;
        for key in keys {
            match self.delete(key).await {
                Ok(()) => deleted += 1,
                Err(e) => tracing::warn!(key, "could not delete a file: {e}"),
            }
        }
        deleted
    }
}

/// Keys are made by Spoor, never taken from a request as they are; this
/// refuses anything that could leave the store's root all the same.
fn check_key(key: &str) -> Result<(), FileError> {
    let ok = !key.is_empty()
        && key.len() <= 512
        && !key.starts_with('/')
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(FileError::BadKey(key.to_string()))
    }
}

/// A key part for an id a client chose: a hex digest, so any string is safe
/// in a path and in a bucket, and the same id always names the same file.
pub fn id_part(id: &str) -> String {
    let digest = <sha2::Sha256 as sha2::Digest>::digest(id.as_bytes());
    spoor_core::secret::hex(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_inside_the_store() {
        for good in ["p1/recordings/ab/cd.json.gz", "p2/exports/12.pdf"] {
            assert!(check_key(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "p1/../x",
            "p1//x",
            "p1/./x",
            "p1/a b",
            "p1/ä",
        ] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn id_parts_are_stable_hex() {
        assert_eq!(id_part("session 1/../x"), id_part("session 1/../x"));
        assert_ne!(id_part("a"), id_part("b"));
        assert!(id_part("a").bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(id_part("a").len(), 32);
    }
}
