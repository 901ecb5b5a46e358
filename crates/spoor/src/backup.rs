//! `spoor backup` and `spoor restore`: the embedded store's two SQLite files
//! in one archive, taken while Spoor serves.
//!
//! The archive is a tar of `spoor.db`, `spoor-derived.db` and a manifest,
//! written beside its destination and renamed into place once synced, so a
//! backup that stops half-way leaves no file that looks whole. A restore
//! takes only those three names, into a data directory that holds no store,
//! and opens the result (which checks it and applies any newer migrations)
//! before it says it is done.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use spoor_store::sqlite::{DERIVED_FILE, LOG_FILE};
use spoor_store::{Store, StoreConfig};

const MANIFEST: &str = "spoor-backup.json";
/// The archive's layout; a restore refuses another.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: u32,
    /// The version of Spoor that wrote it.
    spoor: String,
    /// When the copy began, ms since the epoch.
    created_at: i64,
}

/// A path beside `file`, named after it.
fn beside(file: &Path, suffix: &str) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    file.with_file_name(format!(".{name}.{suffix}"))
}

pub fn backup(store: &Store, to: &Path) -> anyhow::Result<()> {
    if to.exists() {
        bail!("{} exists already: back up to a new file", to.display());
    }
    let work = beside(to, &format!("spoor-backup-{}", std::process::id()));
    std::fs::create_dir(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let result = write_archive(store, to, &work);
    // What is left of the work directory is only ever the copies.
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn write_archive(store: &Store, to: &Path, work: &Path) -> anyhow::Result<()> {
    let created_at = spoor_core::time::now_ms();
    store.backup_into(&work.join(LOG_FILE), &work.join(DERIVED_FILE))?;
    let manifest = Manifest {
        format: FORMAT,
        spoor: env!("CARGO_PKG_VERSION").into(),
        created_at,
    };
    std::fs::write(work.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)?;
    let partial = beside(to, "partial");
    let file =
        File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let mut archive = tar::Builder::new(file);
    for name in [MANIFEST, LOG_FILE, DERIVED_FILE] {
        archive.append_path_with_name(work.join(name), name)?;
    }
    let mut file = archive.into_inner()?;
    file.flush()?;
    file.sync_all()?;
    std::fs::rename(&partial, to)?;
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    let size = std::fs::metadata(to)?.len();
    eprintln!(
        "backed up the store to {} ({} MB); restore it with `spoor restore --from {}`",
        to.display(),
        size.div_ceil(1_000_000),
        to.display()
    );
    Ok(())
}

pub fn restore(data_dir: &Path, from: &Path) -> anyhow::Result<()> {
    for name in [LOG_FILE, DERIVED_FILE] {
        if data_dir.join(name).exists() {
            bail!(
                "{} holds a store already: restore into a new data directory (--data-dir), then \
                 start Spoor on it, or move it into place while Spoor is stopped",
                data_dir.display()
            );
        }
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let file = File::open(from).with_context(|| format!("cannot open {}", from.display()))?;
    let mut archive = tar::Archive::new(file);
    let mut manifest = None;
    let mut staged = Vec::new();
    for entry in archive
        .entries()
        .context("not a spoor backup (a tar archive)")?
    {
        let mut entry = entry.context("the backup is damaged")?;
        let name = entry.path()?.to_string_lossy().into_owned();
        if !entry.header().entry_type().is_file() {
            bail!("the backup holds {name:?}, which is not a file: is it a spoor backup?");
        }
        match name.as_str() {
            MANIFEST => {
                // A manifest is a few lines; a larger one is not ours.
                let mut text = String::new();
                std::io::Read::read_to_string(
                    &mut std::io::Read::take(&mut entry, 64 * 1024),
                    &mut text,
                )?;
                manifest = Some(
                    serde_json::from_str::<Manifest>(&text)
                        .context("the backup's manifest does not parse")?,
                );
            }
            LOG_FILE | DERIVED_FILE => {
                let at = data_dir.join(format!(".{name}.restoring"));
                let mut out = File::create(&at)?;
                std::io::copy(&mut entry, &mut out)?;
                out.sync_all()?;
                staged.push((at, data_dir.join(&name)));
            }
            other => bail!("the backup holds {other:?}, which a spoor backup does not: is it one?"),
        }
    }
    let manifest = manifest.context("the backup has no manifest: is it a spoor backup?")?;
    if manifest.format != FORMAT {
        bail!(
            "the backup is in format {} (written by Spoor {}); this Spoor reads format {FORMAT}",
            manifest.format,
            manifest.spoor
        );
    }
    if staged.len() != 2 {
        bail!("the backup lacks one of {LOG_FILE} and {DERIVED_FILE}");
    }
    for (at, to) in &staged {
        std::fs::rename(at, to)?;
    }
    File::open(data_dir)?.sync_all()?;
    // Opening checks both files and brings them to this version's schema.
    let store =
        Store::open(&StoreConfig::sqlite(data_dir)).context("the restored store does not open")?;
    eprintln!(
        "restored the backup of {} into {}: {}",
        spoor_core::time::format_iso(manifest.created_at),
        data_dir.display(),
        store.describe()
    );
    Ok(())
}
