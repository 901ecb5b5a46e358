//! `spoor keys`, `spoor tokens`, `spoor projects` and `spoor users`.

use anyhow::bail;
use spoor_core::secret;
use spoor_store::{KeyChange, KeySelector, NewKey, NewToken, Role, Store, StoreError};

use crate::cli::{KeysCommand, ProjectsCommand, TokensCommand, UsersCommand};

fn when(ms: Option<i64>) -> String {
    ms.map_or_else(
        || "never".into(),
        |ms| spoor_core::time::format_iso(ms)[..19].replace('T', " "),
    )
}

fn selector(s: &str) -> anyhow::Result<KeySelector> {
    if secret::looks_like_write_key(s) {
        return Ok(KeySelector::Hash(secret::hash(s)));
    }
    match s.parse::<i64>() {
        Ok(id) => Ok(KeySelector::Id(id)),
        Err(_) => bail!(
            "{s:?} is neither a write key (fk_ and 32 characters) nor a key id from `spoor keys list`"
        ),
    }
}

pub fn keys(store: &Store, cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::Create {
            name,
            project,
            domains,
            rate_limit,
            per_address_limit,
        } => {
            let domains = spoor_core::domains::parse(&domains)
                .map_err(|e| anyhow::anyhow!("--domain: {e}"))?;
            let project = store.project(&project).map_err(|e| {
                anyhow::anyhow!("{e}; create it with `spoor projects create {project}`")
            })?;
            let key = secret::generate(secret::WRITE_KEY_PREFIX);
            let record = store.create_key(&NewKey {
                project_id: project.id,
                name,
                hash: secret::hash(&key),
                prefix: secret::shown_prefix(&key),
                domains,
                rate_limit_per_minute: rate_limit,
                per_address_rate_limit_per_minute: per_address_limit,
            })?;
            eprintln!(
                "created write key {} ({:?}) for project {}; it is shown only now, so keep it",
                record.id, record.name, record.project
            );
            println!("{key}");
        }
        KeysCommand::List { json } => {
            let keys = store.keys()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&keys)?);
                return Ok(());
            }
            println!(
                "{:<4} {:<24} {:<13} {:<12} {:<28} {:>9} {:>9} {:<6} {:<19} {:<19}",
                "ID",
                "NAME",
                "PREFIX",
                "PROJECT",
                "DOMAINS",
                "LIMIT/M",
                "ADDRESS/M",
                "ACTIVE",
                "CREATED",
                "LAST USED"
            );
            for k in keys {
                let domains = if k.domains.is_empty() {
                    "(any)".to_string()
                } else {
                    k.domains.join(",")
                };
                println!(
                    "{:<4} {:<24} {:<13} {:<12} {:<28} {:>9} {:>9} {:<6} {:<19} {:<19}",
                    k.id,
                    k.name,
                    format!("{}…", k.prefix),
                    k.project,
                    domains,
                    k.rate_limit_per_minute,
                    match k.per_address_rate_limit_per_minute {
                        0 => "-".to_string(),
                        n => n.to_string(),
                    },
                    if k.active { "yes" } else { "no" },
                    when(Some(k.created_at)),
                    when(k.last_used_at)
                );
            }
        }
        KeysCommand::Set {
            key,
            name,
            domains,
            any_domain,
            rate_limit,
            per_address_limit,
        } => {
            let id = match selector(&key)? {
                KeySelector::Id(id) => id,
                KeySelector::Hash(hash) => {
                    store
                        .key_by_hash(&hash)?
                        .ok_or_else(|| {
                            anyhow::anyhow!(
                                "no such key: check it, or give its id from `spoor keys list`"
                            )
                        })?
                        .id
                }
            };
            let domains = if any_domain {
                Some(Vec::new())
            } else if domains.is_empty() {
                None
            } else {
                Some(
                    spoor_core::domains::parse(&domains)
                        .map_err(|e| anyhow::anyhow!("--domain: {e}"))?,
                )
            };
            if let Some(n) = &name
                && n.trim().is_empty()
            {
                bail!("--name must say something");
            }
            let k = store.update_key(
                id,
                &KeyChange {
                    name: name.map(|n| n.trim().to_string()),
                    active: None,
                    domains,
                    rate_limit_per_minute: rate_limit,
                    per_address_rate_limit_per_minute: per_address_limit,
                },
            )?;
            let domains = if k.domains.is_empty() {
                "any domain".to_string()
            } else {
                k.domains.join(", ")
            };
            eprintln!(
                "write key {} ({:?}): {domains}; {} requests a minute, {} from one address",
                k.id,
                k.name,
                k.rate_limit_per_minute,
                match k.per_address_rate_limit_per_minute {
                    0 => "no limit".to_string(),
                    n => n.to_string(),
                }
            );
        }
        KeysCommand::Disable { key } => {
            let k = store.set_key_active(&selector(&key)?, false)?;
            eprintln!("write key {} ({:?}) is disabled", k.id, k.name);
        }
        KeysCommand::Enable { key } => {
            let k = store.set_key_active(&selector(&key)?, true)?;
            eprintln!("write key {} ({:?}) is enabled", k.id, k.name);
        }
    }
    Ok(())
}

pub fn tokens(store: &Store, cmd: TokensCommand) -> anyhow::Result<()> {
    match cmd {
        TokensCommand::Create { name, org } => {
            let org = store.org(&org)?;
            let token = secret::generate(secret::ADMIN_TOKEN_PREFIX);
            let record = store.create_token(&NewToken {
                org_id: org.id,
                name,
                hash: secret::hash(&token),
                prefix: secret::shown_prefix(&token),
            })?;
            eprintln!(
                "created admin token {} ({:?}); it is shown only now, so keep it secret",
                record.id, record.name
            );
            println!("{token}");
        }
        TokensCommand::List { org } => {
            let org = store.org(&org)?;
            println!(
                "{:<4} {:<24} {:<13} {:<19} {:<19}",
                "ID", "NAME", "PREFIX", "CREATED", "LAST USED"
            );
            for t in store.tokens_of_org(org.id)? {
                println!(
                    "{:<4} {:<24} {:<13} {:<19} {:<19}",
                    t.id,
                    t.name,
                    t.prefix,
                    when(Some(t.created_at)),
                    when(t.last_used_at)
                );
            }
        }
        TokensCommand::Revoke { id, org } => {
            let org = store.org(&org)?;
            store.delete_token(org.id, id)?;
            eprintln!("revoked admin token {id} of organisation {}", org.name);
        }
    }
    Ok(())
}

pub fn projects(store: &Store, cmd: ProjectsCommand) -> anyhow::Result<()> {
    match cmd {
        ProjectsCommand::Create { name, org } => {
            let org = store.org(&org)?;
            let p = store.create_project(org.id, &name)?;
            eprintln!("created project {} ({})", p.name, p.id);
        }
        ProjectsCommand::List => {
            println!(
                "{:<4} {:<24} {:<12} {:<19}",
                "ID", "NAME", "FULL IP", "CREATED"
            );
            for p in store.projects()? {
                println!(
                    "{:<4} {:<24} {:<12} {:<19}",
                    p.id,
                    p.name,
                    if p.keep_full_ip { "kept" } else { "truncated" },
                    when(Some(p.created_at))
                );
            }
        }
        ProjectsCommand::Set {
            name,
            keep_full_ip,
            retention_days,
        } => {
            let p = store.project(&name)?;
            if let Some(keep) = keep_full_ip {
                let p = store.set_keep_full_ip(&name, keep)?;
                eprintln!(
                    "project {}: client addresses are {}",
                    p.name,
                    if p.keep_full_ip {
                        "kept whole"
                    } else {
                        "truncated"
                    }
                );
            }
            if let Some(days) = retention_days {
                store.set_project_retention(p.id, days)?;
                match days {
                    0 => eprintln!(
                        "project {}: raw events and sessions are kept for ever",
                        p.name
                    ),
                    n => eprintln!(
                        "project {}: raw events and sessions are kept {n} days",
                        p.name
                    ),
                }
            }
        }
    }
    Ok(())
}

pub fn users(
    store: &Store,
    cmd: UsersCommand,
    files: &spoor_server::files::FilesConfig,
) -> anyhow::Result<()> {
    match cmd {
        UsersCommand::Create {
            email,
            org,
            role,
            password_stdin,
        } => {
            let email = email.trim().to_lowercase();
            if !email.contains('@') {
                bail!("{email:?} is not an email address");
            }
            let role = Role::parse(&role).ok_or_else(|| anyhow::anyhow!("unknown role {role}"))?;
            let org = match store.org(&org) {
                Ok(org) => org,
                Err(StoreError::NotFound(_)) => {
                    let made = store.create_org(&org)?;
                    eprintln!("created organisation {}", made.name);
                    made
                }
                Err(e) => return Err(e.into()),
            };
            let user = match store.user_login(&email)? {
                Some((user, _)) => {
                    eprintln!("{email} exists; their password is unchanged");
                    user
                }
                None => {
                    let password = read_password(password_stdin)?;
                    spoor_core::password::check_new(&password).map_err(anyhow::Error::msg)?;
                    store.create_user(&email, &spoor_core::password::hash(&password))?
                }
            };
            store.set_role(user.id, org.id, role)?;
            eprintln!(
                "{} is {} of organisation {}",
                user.email,
                role.as_str(),
                org.name
            );
        }
        UsersCommand::Forget { user_id, project } => {
            if user_id.trim().is_empty() {
                bail!("give the user id to erase");
            }
            let project = store
                .project(&project)
                .map_err(|e| anyhow::anyhow!("{e}; `spoor projects list` shows them"))?;
            let erased = store.erase_person(project.id, &user_id, spoor_core::time::now_ms())?;
            // Recordings, their screenshots and the finished exports that
            // covered the person's events go too, rows first, then files.
            let freed = store.erase_files(project.id, &erased.ids, erased.span)?;
            let file_store = spoor_server::files::FileStore::open(files)?;
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(file_store.delete_all(&freed.file_keys));
            let mut answer = serde_json::to_value(&erased)?;
            answer["recordings"] = freed.recordings.into();
            answer["screenshots"] = freed.screenshots.into();
            answer["exports"] = freed.exports.into();
            println!("{answer}");
            eprintln!(
                "erased {} events, {} sessions, {} summaries, {} contacts, {} recordings and {} exports of {} id(s); their messages are refused from now on",
                erased.events,
                erased.sessions,
                erased.customers,
                erased.contacts,
                freed.recordings,
                freed.exports,
                erased.ids.len()
            );
        }
    }
    Ok(())
}

/// The new user's password: the first line of standard input, or typed at a
/// prompt without echo.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            bail!("the passwords differ");
        }
        first
    };
    Ok(password)
}
