//! The optional TOML settings file. Each key is a long flag's name (`listen`,
//! `geoip-db` or `geoip_db`); its value becomes the default for that flag by way of
//! its `SPOOR_*` variable, so the order of precedence is flag, then variable, then
//! file, then built-in default.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::CommandFactory;

use crate::cli::Cli;

/// Finds `--config FILE` (or `SPOOR_CONFIG`) in the raw arguments.
pub fn locate(args: &[String]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(v));
        }
    }
    std::env::var_os("SPOOR_CONFIG").map(PathBuf::from)
}

/// Every `SPOOR_*` variable a flag reads, by flag name.
fn known_settings() -> Vec<(String, String)> {
    fn walk(cmd: &clap::Command, out: &mut Vec<(String, String)>) {
        for arg in cmd.get_arguments() {
            if let (Some(long), Some(env)) = (arg.get_long(), arg.get_env()) {
                let env = env.to_string_lossy().to_string();
                if !out.iter().any(|(l, _)| l == long) {
                    out.push((long.to_string(), env));
                }
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), &mut out);
    out
}

/// The variables the file sets, for those not set already.
pub fn load(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let table: toml::Table = toml::from_str(&text)
        .with_context(|| format!("config file {} is not valid TOML", path.display()))?;
    let known = known_settings();
    let mut vars = Vec::new();
    for (key, value) in table {
        let flag = key.replace('_', "-");
        let Some((_, env)) = known.iter().find(|(l, _)| *l == flag) else {
            let names: Vec<&str> = known.iter().map(|(l, _)| l.as_str()).collect();
            bail!(
                "config file {}: unknown setting {key:?}; known settings: {}",
                path.display(),
                names.join(", ")
            );
        };
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Float(f) => f.to_string(),
            other => bail!(
                "config file {}: {key} must be a string, number or boolean, not {other}",
                path.display()
            ),
        };
        if std::env::var_os(env).is_none() {
            vars.push((env.clone(), value));
        }
    }
    Ok(vars)
}
