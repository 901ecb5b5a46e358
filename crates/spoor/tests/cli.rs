//! The command line: key management, tokens, projects, export, jobs, help and
//! settings.

mod common;

use common::{Spoor, TestStore, cli, cli_line, track};
use serde_json::{Value, json};

fn run(args: &[&str]) -> std::process::Output {
    common::command().args(args).output().unwrap()
}

/// A key's name, domains and limits change after it is made, by id or by the
/// key itself; what is not given stays; bad values say what to fix.
#[test]
fn keys_set_changes_domains_and_limits() {
    let store = TestStore::new();
    let key = cli_line(&store, &["keys", "create", "--name", "Site"]);
    let listed = |store: &TestStore| -> Value {
        serde_json::from_str::<Value>(&cli_line(store, &["keys", "list", "--json"])).unwrap()[0]
            .clone()
    };
    let k = listed(&store);
    assert_eq!(
        (
            &k["rate_limit_per_minute"],
            &k["per_address_rate_limit_per_minute"],
            &k["domains"]
        ),
        (
            &json!(spoor_store::DEFAULT_KEY_RATE_LIMIT),
            &json!(spoor_store::DEFAULT_PER_ADDRESS_RATE_LIMIT),
            &json!([])
        )
    );
    let out = cli(
        &store,
        &[
            "keys",
            "set",
            &key,
            "--domain",
            "https://Shop.example/cart",
            "--domain",
            "www.shop.example",
            "--rate-limit",
            "5000",
            "--per-address-limit",
            "0",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("5000 requests a minute, no limit from one address")
    );
    let k = listed(&store);
    assert_eq!(
        (
            &k["name"],
            &k["domains"],
            &k["rate_limit_per_minute"],
            &k["per_address_rate_limit_per_minute"]
        ),
        (
            &json!("Site"),
            &json!(["shop.example", "www.shop.example"]),
            &json!(5000),
            &json!(0)
        )
    );
    let id = k["id"].to_string();
    assert!(
        cli(
            &store,
            &["keys", "set", &id, "--name", "Site (prod)", "--any-domain"]
        )
        .status
        .success()
    );
    let k = listed(&store);
    assert_eq!(
        (&k["name"], &k["domains"], &k["rate_limit_per_minute"]),
        (&json!("Site (prod)"), &json!([]), &json!(5000))
    );
    let max = spoor_store::MAX_RATE_LIMIT.to_string();
    let over = (spoor_store::MAX_RATE_LIMIT + 1).to_string();
    for (args, says) in [
        (vec!["--rate-limit", "0"], "--rate-limit"),
        (vec!["--rate-limit", over.as_str()], "--rate-limit"),
        (
            vec!["--per-address-limit", over.as_str()],
            "--per-address-limit",
        ),
        (vec!["--domain", "not a domain"], "is not a domain name"),
        (
            vec!["--domain", "a.example", "--any-domain"],
            "cannot be used with",
        ),
    ] {
        let mut all = vec!["keys", "set", id.as_str()];
        all.extend(args.iter().copied());
        let out = common::command()
            .args(store.args())
            .args(&all)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert!(
        cli(
            &store,
            &[
                "keys",
                "set",
                &id,
                "--rate-limit",
                &max,
                "--per-address-limit",
                &max
            ]
        )
        .status
        .success()
    );
    assert_eq!(
        listed(&store)["per_address_rate_limit_per_minute"],
        json!(spoor_store::MAX_RATE_LIMIT)
    );
    let out = common::command()
        .args(store.args())
        .args([
            "keys",
            "set",
            "fk_00000000000000000000000000000000",
            "--rate-limit",
            "5",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no such key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn keys_create_prints_only_the_key_on_stdout() {
    let store = TestStore::new();
    let out = cli(
        &store,
        &[
            "keys",
            "create",
            "--name",
            "Customer XYZ - Production",
            "--domain",
            "Example.com",
            "--rate-limit",
            "50",
        ],
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    let key = stdout.trim();
    assert!(key.starts_with("fk_") && key.len() == 35, "{key}");
    assert!(key[3..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("shown only now")
    );

    let list: Value = serde_json::from_str(&cli_line(&store, &["keys", "list", "--json"])).unwrap();
    let k = &list[0];
    assert_eq!(k["name"], "Customer XYZ - Production");
    assert_eq!(k["project"], "default");
    assert_eq!(k["domains"], json!(["example.com"]));
    assert_eq!(k["rate_limit_per_minute"], 50);
    assert_eq!(k["active"], true);
    assert!(k["last_used_at"].is_null());
    assert_eq!(k["prefix"], &key[..10]);

    let table = String::from_utf8(cli(&store, &["keys", "list"]).stdout).unwrap();
    for col in [
        "NAME",
        "PREFIX",
        "PROJECT",
        "DOMAINS",
        "LIMIT",
        "ACTIVE",
        "CREATED",
        "LAST USED",
    ] {
        assert!(table.contains(col), "{col} missing:\n{table}");
    }
    assert!(
        table.contains(&key[..10]) && !table.contains(key),
        "only the prefix is shown"
    );

    // The store holds the hash, never the key.
    // (On PostgreSQL the same code path stores the same hash.)
    if !store.is_postgres() {
        let db = std::fs::read(store.dir.path().join("spoor.db")).unwrap();
        assert!(
            !db.windows(key.len()).any(|w| w == key.as_bytes()),
            "the key is stored in the clear"
        );
    }

    cli(&store, &["keys", "disable", key]);
    let list: Value = serde_json::from_str(&cli_line(&store, &["keys", "list", "--json"])).unwrap();
    assert_eq!(list[0]["active"], false);
    cli(&store, &["keys", "enable", "1"]);
    let list: Value = serde_json::from_str(&cli_line(&store, &["keys", "list", "--json"])).unwrap();
    assert_eq!(list[0]["active"], true);
}

#[test]
fn mistakes_get_clear_errors() {
    let store = TestStore::new();
    let run = |args: &[&str]| {
        common::command()
            .args(store.args())
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["keys", "create", "--name", "x", "--project", "nope"]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("nope") && err.contains("spoor projects create"),
        "{err}"
    );
    let out = run(&["keys", "disable", "banana"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("neither a write key")
    );
    let out = run(&["keys", "disable", "99"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("no such key")
    );
    let out = run(&[
        "export",
        "events",
        "--format",
        "ndjson",
        "--since",
        "last tuesday",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("ISO-8601"));
}

#[test]
fn help_documents_every_command_and_setting() {
    let top = String::from_utf8(run(&["--help"]).stdout).unwrap();
    for cmd in [
        "serve",
        "keys",
        "tokens",
        "projects",
        "export",
        "migrate",
        "jobs",
        "widgets",
        "billing",
        "--data-dir",
        "--config",
    ] {
        assert!(top.contains(cmd), "{cmd} missing from --help:\n{top}");
    }
    let serve = String::from_utf8(run(&["serve", "--help"]).stdout).unwrap();
    for setting in [
        "DATABASE_URL",
        "SPOOR_DB_SCHEMA",
        "SPOOR_DB_POOL_SIZE",
        "SPOOR_DB_STATEMENT_TIMEOUT",
        "SPOOR_DB_CA_FILE",
        "SPOOR_LISTEN",
        "SPOOR_DATA_DIR",
        "SPOOR_CONFIG",
        "SPOOR_GEOIP_DB",
        "SPOOR_PROXY_HOPS",
        "SPOOR_MAX_BODY_BYTES",
        "SPOOR_MAX_DECODED_BYTES",
        "SPOOR_MAX_BATCH_MESSAGES",
        "SPOOR_MAX_MESSAGE_BYTES",
        "SPOOR_MAX_JSON_DEPTH",
        "SPOOR_QUEUE_EVENTS",
        "SPOOR_WRITE_BATCH_EVENTS",
        "SPOOR_MAX_IN_FLIGHT",
        "SPOOR_LOG_FORMAT",
        "SPOOR_ACCESS_LOG",
        "SPOOR_REDIS_URL",
        "SPOOR_REDIS_CA_FILE",
        "SPOOR_SCHEDULER_LEASE_SECS",
        "SPOOR_RETENTION_DAYS",
        "SPOOR_MEMORY_BUDGET",
        "SPOOR_ROLE",
        "SPOOR_NODE_NAME",
        "SPOOR_CRON_SECRET",
        "SPOOR_METERING_CLEANUP_MINUTES",
        "SPOOR_METERING_INFER_AFTER_MINUTES",
    ] {
        assert!(
            serve.contains(setting),
            "{setting} missing from serve --help:\n{serve}"
        );
    }
    for sub in [
        &["keys", "create", "--help"][..],
        &["keys", "list", "--help"],
        &["export", "events", "--help"],
        &["tokens", "create", "--help"],
        &["widgets", "create", "--help"],
        &["billing", "--help"],
    ] {
        assert!(run(sub).status.success(), "{sub:?}");
    }
    let set = String::from_utf8(run(&["projects", "set", "--help"]).stdout).unwrap();
    assert!(set.contains("--retention-days"), "{set}");
    let billing = run(&["billing", "--month", "2026-13"]);
    let err = String::from_utf8(billing.stderr).unwrap();
    assert!(
        !billing.status.success() && err.contains("2026-11"),
        "{err}"
    );
}

#[tokio::test]
async fn settings_come_from_a_config_file_and_flags_win() {
    let store = TestStore::new();
    let config = store.dir.path().join("spoor.toml");
    std::fs::write(&config, "max_batch_messages = 2\nproxy-hops = 1\n").unwrap();
    let key = cli_line(&store, &["keys", "create", "--name", "k"]);
    let args = vec![
        "--config".to_string(),
        config.to_str().unwrap().to_string(),
        "--max-batch-messages".into(),
        "3".into(),
    ];
    let (mut child, url) = common::spawn_server(&store, &args);
    let http = common::http_client();
    let send = |n: usize| {
        let batch: Vec<Value> = (0..n)
            .map(|i| track(&format!("cfg-{n}-{i}"), "u"))
            .collect();
        http.post(format!("{url}/v1/batch"))
            .basic_auth(&key, Some(""))
            .header("x-forwarded-for", "198.51.100.7")
            .json(&json!({"batch": batch}))
            .send()
    };
    assert_eq!(
        send(3).await.unwrap().status(),
        200,
        "the flag (3) wins over the file (2)"
    );
    assert_eq!(send(4).await.unwrap().status(), 413);
    child.kill().unwrap();
    child.wait().unwrap();
    let out =
        String::from_utf8(cli(&store, &["export", "events", "--format", "ndjson"]).stdout).unwrap();
    let first: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(
        first["enrichment"]["ip"], "198.51.100.0",
        "proxy-hops came from the file"
    );

    std::fs::write(&config, "listen_port = 1\n").unwrap();
    let out = common::command()
        .args(store.args())
        .args(["--config", config.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("unknown setting") && err.contains("listen"),
        "{err}"
    );
}

#[tokio::test]
async fn export_streams_ndjson_and_csv_with_time_bounds() {
    let s = Spoor::start().await;
    let msgs: Vec<Value> = (0..5)
        .map(|i| {
            let mut m = track(&format!("e{i}"), "u");
            m["timestamp"] = json!(format!("2026-11-0{}T12:00:00.000Z", i + 1));
            m
        })
        .collect();
    assert_eq!(s.batch(msgs).await.1["accepted"], 5);
    let ndjson =
        String::from_utf8(s.cli(&["export", "events", "--format", "ndjson"]).stdout).unwrap();
    let lines: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["messageId"], "e0");
    assert_eq!(lines[0]["projectId"], "default");
    assert_eq!(lines[0]["enrichment"]["browser"], "Chrome");
    assert_eq!(
        lines[0],
        s.events("default").await[0],
        "the API and the export agree"
    );

    let bounded = String::from_utf8(
        s.cli(&[
            "export",
            "events",
            "--format",
            "ndjson",
            "--since",
            "2026-11-02",
            "--until",
            "2026-11-04T00:00:00Z",
        ])
        .stdout,
    )
    .unwrap();
    let ids: Vec<String> = bounded
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["messageId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["e1", "e2"]);

    let csv = String::from_utf8(s.cli(&["export", "events", "--format", "csv"]).stdout).unwrap();
    let mut rows = csv.lines();
    let header = rows.next().unwrap();
    assert!(
        header.starts_with("message_id,type,name,user_id"),
        "{header}"
    );
    let first = rows.next().unwrap();
    assert!(first.starts_with("e0,track,Product Viewed,u,"), "{first}");
    assert_eq!(csv.lines().count(), 6);
}

#[tokio::test]
async fn jobs_are_listed_and_run_from_the_command_line_and_retention_removes_old_events() {
    let s = Spoor::start().await;
    // The server's scheduler makes partitions as it starts; its run is over first.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let listed: Value =
            serde_json::from_slice(&s.cli(&["jobs", "list", "--json"]).stdout).unwrap();
        if listed["jobs"][0]["last_run"]["runs"] == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduler never ran: {listed}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut old = track("old", "u");
    old["timestamp"] = json!("2001-01-15T00:00:00.000Z");
    assert_eq!(s.batch(vec![old, track("new", "u")]).await.0, 200);

    let list = s.cli_line(&["jobs", "list"]);
    assert!(list.contains("partitions"), "{list}");
    let names: Vec<String> = serde_json::from_slice::<Value>(
        &s.cli(&["jobs", "list", "--json"]).stdout,
    )
    .unwrap()["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "partitions",
            "project-retention",
            "metering-cleanup",
            "alerts",
            "exports"
        ],
        "the store-wide retention is off by default"
    );
    let made = s.cli_line(&["jobs", "run", "partitions", "--node-name", "cli"]);
    if s.store.is_postgres() {
        assert!(
            made.contains("events_y2001m01"),
            "the old month gets its partition: {made}"
        );
    } else {
        assert_eq!(
            made, "partitions are up to date",
            "SQLite has no partitions"
        );
    }
    let listed: Value = serde_json::from_slice(&s.cli(&["jobs", "list", "--json"]).stdout).unwrap();
    let run = listed["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "partitions")
        .unwrap()["last_run"]
        .clone();
    assert_eq!(
        (run["node"].as_str(), run["ok"].as_bool()),
        (Some("cli"), Some(true)),
        "{run}"
    );

    let unknown = s.cli_command(&["jobs", "run", "nope"]);
    assert!(!unknown.status.success());
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        err.contains("partitions"),
        "names the jobs there are: {err}"
    );

    let done = s.cli_line(&["--retention-days", "30", "jobs", "run", "retention"]);
    assert!(done.starts_with("kept 30 days"), "{done}");
    if s.store.is_postgres() {
        assert!(
            done.contains("dropped 1 partitions (events_y2001m01)"),
            "{done}"
        );
    } else {
        assert!(done.contains("deleted 1 events"), "{done}");
    }
    let ids: Vec<Value> = s
        .events("default")
        .await
        .iter()
        .map(|e| e["messageId"].clone())
        .collect();
    assert_eq!(ids, [json!("new")]);
}

/// `jobs run` while another node runs the same job waits for that run to end
/// and then runs it; past `--wait` it fails and names the node.
#[test]
fn running_a_job_waits_for_a_run_elsewhere_up_to_its_bound() {
    let store = TestStore::sqlite();
    cli_line(&store, &["jobs", "list"]);
    let held = spoor_store::Store::open(&spoor_store::StoreConfig::sqlite(store.dir.path()))
        .expect("the CLI's store opens");

    // A run elsewhere that ends (its lease lapses) within the wait.
    assert!(
        held.acquire_lease("job:partitions", "elsewhere", 1_500)
            .unwrap()
    );
    let out = common::cli(&store, &["jobs", "run", "partitions", "--wait", "30"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("job partitions is running on elsewhere; waiting"),
        "says what it waits for: {err}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "partitions are up to date"
    );

    // A run elsewhere that outlasts the wait: refused, naming the node.
    assert!(
        held.acquire_lease("job:partitions", "elsewhere", 600_000)
            .unwrap()
    );
    for wait in ["0", "1"] {
        let out = common::command()
            .args(store.args())
            .args(["jobs", "run", "partitions", "--wait", wait])
            .output()
            .unwrap();
        assert!(!out.status.success(), "--wait {wait} ran a held job");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("job partitions is running on elsewhere"),
            "--wait {wait}: {err}"
        );
    }
}
