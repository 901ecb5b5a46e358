//! Where an interrupted import of a file stopped: a small file beside it,
//! rewritten after every commit and removed when the file is done. It names
//! the file by its size and the digest of its first bytes, so a file that
//! changed since is imported from its start (which stores nothing twice).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How much of the file's start identifies it.
const HEAD_BYTES: u64 = 64 * 1024;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Checkpoint {
    pub file_len: u64,
    pub head: String,
    pub source: String,
    /// The offset just past the last row committed, and that row's number.
    pub offset: u64,
    pub rows: u64,
}

pub fn path_for(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".spoor-import");
    PathBuf::from(name)
}

/// The file's size and the digest of its first bytes.
pub fn identify(file: &Path) -> std::io::Result<(u64, String)> {
    let len = std::fs::metadata(file)?.len();
    let mut head = Vec::new();
    File::open(file)?.take(HEAD_BYTES).read_to_end(&mut head)?;
    Ok((
        len,
        spoor_core::secret::hash(&String::from_utf8_lossy(&head)),
    ))
}

/// The checkpoint left for `file` by an import of `source`, when it still
/// describes the file.
pub fn load(file: &Path, source: &str) -> Option<Checkpoint> {
    let text = std::fs::read_to_string(path_for(file)).ok()?;
    let cp: Checkpoint = serde_json::from_str(&text).ok()?;
    let (len, head) = identify(file).ok()?;
    (cp.file_len == len && cp.head == head && cp.source == source && cp.offset <= len).then_some(cp)
}

/// Writes the checkpoint whole or not at all (a new file renamed over the old).
pub fn save(file: &Path, cp: &Checkpoint) -> std::io::Result<()> {
    let path = path_for(file);
    let mut tmp = path.clone().into_os_string();
    tmp.push(".tmp");
    std::fs::write(&tmp, serde_json::to_vec(cp)?)?;
    std::fs::rename(&tmp, &path)
}

pub fn remove(file: &Path) {
    let _ = std::fs::remove_file(path_for(file));
}
