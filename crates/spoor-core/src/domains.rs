//! The one reader of the domain lists a write key sends from: what people
//! type or paste (`https://Shop.example.com/cart`, `*.example.com`,
//! `localhost:3000`) as the lowercase hosts the origin check compares.

/// Domains one list may hold: a key for a company's sites, not a crawl.
pub const MAX_DOMAINS: usize = 100;
/// The longest domain name DNS allows, with room for a port.
const MAX_DOMAIN_LEN: usize = 260;

/// The list as stored: each entry without scheme, path or trailing dot,
/// lowercase, duplicates dropped, order kept; an error names the entry to
/// fix. Empty entries are skipped (an empty list: any origin may send).
pub fn parse(entries: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for raw in entries {
        let entry = raw.trim();
        if entry.is_empty() {
            continue;
        }
        if entry.len() > MAX_DOMAIN_LEN {
            return Err(format!(
                "a domain is at most {MAX_DOMAIN_LEN} characters; \"{}…\" is longer",
                entry.chars().take(40).collect::<String>()
            ));
        }
        let rest = entry.split_once("://").map_or(entry, |(_, r)| r);
        let domain = rest
            .split(['/', '?', '#'])
            .next()
            .unwrap_or("")
            .trim_end_matches('.')
            .to_lowercase();
        if !is_domain(&domain) {
            return Err(format!(
                "\"{entry}\" is not a domain name: send names like example.com, *.example.com or localhost:3000"
            ));
        }
        if !out.contains(&domain) {
            if out.len() == MAX_DOMAINS {
                return Err(format!("a key allows at most {MAX_DOMAINS} domains"));
            }
            out.push(domain);
        }
    }
    Ok(out)
}

/// An optional `*.`, dot-separated labels of letters, digits and hyphens (not
/// at either end of a label),
/// and an optional port.
fn is_domain(d: &str) -> bool {
    let d = d.strip_prefix("*.").unwrap_or(d);
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (d, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    port_ok
        && !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.len() <= 63
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Result<Vec<String>, String> {
        parse(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn pasted_addresses_become_domains() {
        assert_eq!(
            list(&[
                "https://Shop.Example.com/cart?x=1",
                " example.org. ",
                "*.example.net",
                "localhost:3000",
                "shop.example.com",
                ""
            ])
            .unwrap(),
            [
                "shop.example.com",
                "example.org",
                "*.example.net",
                "localhost:3000"
            ]
        );
        assert_eq!(list(&[]).unwrap(), Vec::<String>::new());
        assert_eq!(list(&["bücher.example"]).unwrap(), ["bücher.example"]);
    }

    #[test]
    fn what_is_not_a_domain_is_named() {
        for bad in [
            "exa mple.com",
            "a..b",
            "example.com:port",
            "example.com:123456",
            "-",
            "*.",
        ] {
            let e = list(&[bad]).unwrap_err();
            assert!(e.contains("is not a domain name"), "{bad}: {e}");
        }
    }

    #[test]
    fn lists_and_names_are_bounded_on_both_sides() {
        let most: Vec<String> = (0..MAX_DOMAINS).map(|i| format!("d{i}.example")).collect();
        assert_eq!(parse(&most).unwrap().len(), MAX_DOMAINS);
        let mut too_many = most.clone();
        too_many.push("one-more.example".into());
        assert!(
            parse(&too_many)
                .unwrap_err()
                .contains("at most 100 domains")
        );
        // Repeats do not count twice.
        let mut repeated = most;
        repeated.push("d0.example".into());
        assert_eq!(parse(&repeated).unwrap().len(), MAX_DOMAINS);
        let longest = format!("{}.example", "a".repeat(MAX_DOMAIN_LEN - 8));
        assert_eq!(longest.len(), MAX_DOMAIN_LEN);
        // Labels are at most 63 characters, so the longest name is made of several.
        let labels = (0..MAX_DOMAIN_LEN / 52)
            .map(|_| "a".repeat(50))
            .collect::<Vec<_>>()
            .join(".");
        assert!(list(&[&labels]).is_ok(), "{}", labels.len());
        assert!(
            list(&[&format!("{longest}x")])
                .unwrap_err()
                .contains("at most 260")
        );
    }
}
