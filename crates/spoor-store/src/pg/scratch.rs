//! Scratch databases for tests and benchmarks: each gets a fresh database with a
//! unique name on a PostgreSQL server, dropped again when the value is dropped.

use postgres::{Client, NoTls};

use crate::{StoreError, StoreResult};

/// The server scratch databases are made on, unless `SPOOR_TEST_PG_URL` names
/// another: the local one, trust auth.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    /// A URL for the new database.
    pub url: String,
}

impl ScratchDatabase {
    pub fn create() -> StoreResult<ScratchDatabase> {
        let admin_url =
            std::env::var("SPOOR_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string());
        let name = format!("spoor_scratch_{}", random_hex());
        admin(&admin_url, format!("CREATE DATABASE {name}"))?;
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        Ok(ScratchDatabase {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let _ = admin(
            &self.admin_url,
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Runs one statement on an admin connection, on a thread of its own: the
/// PostgreSQL client drives a runtime of its own, which cannot start inside an
/// async test's.
fn admin(url: &str, sql: String) -> StoreResult<()> {
    let url = url.to_string();
    std::thread::spawn(move || {
        let mut client = Client::connect(&url, NoTls).map_err(|e| {
            StoreError::Database(format!(
                "cannot reach PostgreSQL at {url} for a scratch database: {e}"
            ))
        })?;
        client.batch_execute(&sql)?;
        Ok(())
    })
    .join()
    .unwrap_or_else(|_| {
        Err(StoreError::Database(
            "the scratch-database thread panicked".into(),
        ))
    })
}

/// 16 random hex digits.
fn random_hex() -> String {
    use rand::Rng;
    format!("{:016x}", rand::rng().random::<u64>())
}
