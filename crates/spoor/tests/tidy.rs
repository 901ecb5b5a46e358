//! House rules checked over the source tree: every Rust module starts with a `//!`
//! comment saying what it is for, the server's modules gain no new import
//! circles, no two types give the OpenAPI document a schema of the same name,
//! and the declared minimum Rust version is the one Cargo.lock needs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n != "target" && n != "node_modules")
            {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_starts_with_a_doc_comment() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["crates", "bench"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(
        files.len() > 20,
        "found only {} files under {}",
        files.len(),
        root.display()
    );
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            !std::fs::read_to_string(f)
                .unwrap()
                .trim_start()
                .starts_with("//!")
        })
        .map(|f| f.strip_prefix(&root).unwrap_or(f).display().to_string())
        .collect();
    assert!(missing.is_empty(), "modules without a //! doc: {missing:?}");
}

/// Each type deriving `ToSchema` in `text`: the schema name it gives the
/// document (its `#[schema(as = ...)]`, else its own name), with its name.
fn schema_names(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !(line.starts_with("#[derive(") && line.contains("ToSchema")) {
            continue;
        }
        let mut alias = None;
        for next in &lines[i + 1..] {
            if let Some(rest) = next.strip_prefix("#[schema(as = ") {
                let path = rest.trim_end_matches(")]");
                alias = path.rsplit("::").next().map(str::to_string);
            }
            let item = next
                .strip_prefix("pub ")
                .unwrap_or(next)
                .strip_prefix("struct ")
                .or_else(|| {
                    next.strip_prefix("pub ")
                        .unwrap_or(next)
                        .strip_prefix("enum ")
                });
            if let Some(item) = item {
                let name: String = item
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push((alias.unwrap_or_else(|| name.clone()), name));
                break;
            }
        }
    }
    out
}

#[test]
fn no_two_types_give_the_api_document_one_schema_name() {
    // utoipa keeps one schema per name, the last it meets: a second type of
    // the same name would silently describe the first one's answers.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let shown = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        for (schema, ty) in schema_names(&text) {
            seen.entry(schema)
                .or_default()
                .push(format!("{shown}: {ty}"));
        }
    }
    assert!(
        seen.len() > 100,
        "found only {} schemas; has the derive's spelling changed?",
        seen.len()
    );
    let twice: Vec<_> = seen.iter().filter(|(_, types)| types.len() > 1).collect();
    assert!(
        twice.is_empty(),
        "schemas given by more than one type (rename one with #[schema(as = ...)]): {twice:#?}"
    );
}

#[test]
fn a_schema_name_given_twice_is_found() {
    let text = "#[derive(Serialize, ToSchema)]\n#[schema(as = Thing)]\npub struct ThingOut {}\n\
                #[derive(Deserialize)]\npub struct Plain {}\n\
                #[derive(ToSchema)]\n/// Doc.\n#[serde(rename_all = \"lowercase\")]\nenum Kind {}\n";
    assert_eq!(
        schema_names(text),
        [
            ("Thing".to_string(), "ThingOut".to_string()),
            ("Kind".to_string(), "Kind".to_string())
        ]
    );
}

/// The server's modules, by path (`http::caller`), with the modules each one
/// names through `crate::` or `super::` outside its tests.
fn server_imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spoor-server/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut modules = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap().with_extension("");
        let mut parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
            parts.pop();
        }
        let text = std::fs::read_to_string(f).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("").to_string();
        modules.insert(parts.join("::"), code);
    }
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    let mut edges = BTreeMap::new();
    for (name, code) in &modules {
        let mut targets = BTreeSet::new();
        let bytes = code.as_bytes();
        for start in code
            .match_indices("crate::")
            .chain(code.match_indices("super::"))
        {
            let at = start.0;
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
                continue;
            }
            let path: String = code[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            let mut base: Vec<&str> = Vec::new();
            if segs.first() == Some(&"super") {
                base = name.split("::").filter(|s| !s.is_empty()).collect();
                while segs.first() == Some(&"super") {
                    base.pop();
                    segs.remove(0);
                }
            } else {
                segs.remove(0);
            }
            // The longest prefix that names a module.
            let target = (1..=segs.len()).rev().find_map(|n| {
                let m = base
                    .iter()
                    .chain(&segs[..n])
                    .copied()
                    .collect::<Vec<_>>()
                    .join("::");
                names.contains(&m).then_some(m)
            });
            if let Some(t) = target {
                let nested =
                    t.starts_with(&format!("{name}::")) || name.starts_with(&format!("{t}::"));
                if &t != name && !nested && !name.is_empty() {
                    targets.insert(t);
                }
            }
        }
        edges.insert(name.clone(), targets);
    }
    edges
}

/// The modules that reach each other (strongly connected, more than one).
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(m) = todo.pop() {
            for t in edges.get(&m).into_iter().flatten() {
                if seen.insert(t.clone()) {
                    todo.push(t.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> =
        edges.keys().map(|m| (m, reach(m))).collect();
    let mut out: Vec<BTreeSet<String>> = Vec::new();
    for (m, r) in &reached {
        if !r.contains(*m) || out.iter().any(|c| c.contains(*m)) {
            continue;
        }
        let circle: BTreeSet<String> = r
            .iter()
            .filter(|o| reached.get(o).is_some_and(|back| back.contains(*m)))
            .cloned()
            .collect();
        out.push(circle);
    }
    out
}

/// Modules that import each other cannot be read or moved one at a time. The
/// one circle left (the app's state, its configuration, the callers' checks
/// and the rate limits, which all hold or take `App`) may shrink but not
/// grow, and no other may form.
#[test]
fn the_server_gains_no_import_circles() {
    let edges = server_imports();
    assert!(
        edges.len() > 40,
        "found only {} server modules",
        edges.len()
    );
    assert!(
        edges["http::recordings"].contains("http::file_answer"),
        "the import reader finds `super::` paths: {:?}",
        edges["http::recordings"]
    );
    let known: BTreeSet<String> = [
        "app",
        "config",
        "http::account",
        "http::auth",
        "http::body",
        "http::caller",
        "ratelimit",
        "scheduler",
    ]
    .map(String::from)
    .into();
    for circle in circles(&edges) {
        assert!(
            circle.is_subset(&known),
            "modules that import each other: {circle:?}"
        );
    }
}

/// `1.89` or `1.89.0` as numbers, for comparing.
fn rust_version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split('.').map(|p| {
        p.parse::<u64>()
            .unwrap_or_else(|_| panic!("not a Rust version: {text}"))
    });
    let major = parts.next().unwrap();
    (major, parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// The Rust version the workspace declares is the oldest that builds it: the
/// newest `rust-version` any locked package declares (or the workspace's
/// edition needs), not older, which would promise a build that fails, and not
/// newer, which would turn away toolchains that work. Every member inherits
/// it, so that clippy's `incompatible_msrv` also checks the workspace's own
/// code against it. Updating a dependency that needs a newer Rust fails here
/// until the declared version follows, and with it the toolchain the image's
/// builder and the documentation name.
#[test]
fn the_declared_rust_version_is_the_one_the_lock_file_needs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let packages = meta["packages"].as_array().unwrap();
    assert!(
        packages.len() > 100 && members.len() >= 5,
        "cargo metadata listed {} packages, {} members",
        packages.len(),
        members.len()
    );

    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let declared = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("the workspace's Cargo.toml declares rust-version")
        .trim()
        .trim_matches('"')
        .to_string();

    // The newest version a dependency asks for, and which ones ask for it.
    let mut needed = ((1, 0, 0), Vec::new());
    let mut consider = |version: (u64, u64, u64), why: String| {
        if version > needed.0 {
            needed = (version, vec![why]);
        } else if version == needed.0 {
            needed.1.push(why);
        }
    };
    for p in packages {
        let id = p["id"].as_str().unwrap();
        let name = p["name"].as_str().unwrap();
        if members.contains(id) {
            assert_eq!(
                p["rust_version"].as_str(),
                Some(declared.as_str()),
                "{name} inherits the workspace's rust-version (`rust-version.workspace = true`)"
            );
            let edition = p["edition"].as_str().unwrap();
            let floor = match edition {
                "2024" => (1, 85, 0),
                "2021" => (1, 56, 0),
                _ => (1, 0, 0),
            };
            consider(floor, format!("edition {edition} of {name}"));
        } else if let Some(v) = p["rust_version"].as_str() {
            consider(
                rust_version(v),
                format!("{name} {} ({v})", p["version"].as_str().unwrap()),
            );
        }
    }
    for (file, says) in [
        (
            "deploy/Dockerfile",
            format!("ARG RUST_VERSION={declared}\n"),
        ),
        ("docs/deploy.md", format!("Rust {declared} or newer")),
        ("README.md", format!("Rust {declared} or newer")),
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        assert!(
            text.contains(&says),
            "{file} names the toolchain as the workspace declares it: {says:?}"
        );
    }
    assert_eq!(
        rust_version(&declared),
        needed.0,
        "the workspace declares rust-version {declared}; the lock file needs {}.{}, for {:?}",
        needed.0.0,
        needed.0.1,
        needed.1
    );
}
