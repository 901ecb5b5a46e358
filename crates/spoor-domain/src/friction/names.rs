//! How a page and an error are named: ids in a path become `*`, and an
//! error's message, top frame and fingerprint.

/// Whether a path segment (or a word of a message) looks like an identifier:
/// a number, a UUID, a long run of hex, or a token mixing letters and digits
/// that is long enough not to be a word ("v2" stays, "a8f3k29x" goes).
fn looks_like_id(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    if digits == s.len() {
        return true;
    }
    let hexish = s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    (hexish && s.len() >= 8)
        || (s.len() >= 8
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// The page an event is on: the URL's path (and a `#/` route of a
/// single-page app), without the query, with id-like segments replaced by
/// `*`, so that `/property/123` and `/property/456` are one page,
/// `/property/*`. At most 300 characters.
pub fn page_of(url: &str) -> String {
    let url = url.trim();
    // Drop the scheme and host when there is one.
    let rest = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            match after.find(['/', '?', '#']) {
                Some(j) => &after[j..],
                None => "",
            }
        }
        None => url,
    };
    let (path, route) = match rest.find('#') {
        Some(i) if rest[i + 1..].starts_with('/') => (&rest[..i], Some(&rest[i + 1..])),
        Some(i) => (&rest[..i], None),
        None => (rest, None),
    };
    let path = path.split('?').next().unwrap_or("");
    let mut out = clean_path(path);
    if let Some(route) = route {
        out.push('#');
        out.push_str(&clean_path(route.split('?').next().unwrap_or("")));
    }
    if out.len() > 300 {
        let mut end = 300;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    out
}

fn clean_path(path: &str) -> String {
    let segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| if looks_like_id(s) { "*" } else { s })
        .collect();
    let mut out = String::from("/");
    out.push_str(&segments.join("/"));
    if path.len() > 1 && path.ends_with('/') && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// A page filter as SQL `LIKE` pattern (with `\` as the escape): an exact
/// path, or `*` for anything.
pub fn page_like(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 4);
    for c in pattern.chars() {
        match c {
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '*' => out.push('%'),
            c => out.push(c),
        }
    }
    out
}

/// A message with what varies between occurrences of one bug replaced:
/// numbers and id-like tokens, so `User 123 not found` and `User 456 not
/// found` read the same.
pub fn normalise_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if looks_like_id(token) {
            out.push_str(if token.bytes().all(|b| b.is_ascii_digit()) {
                "<n>"
            } else {
                "<id>"
            });
        } else {
            out.push_str(token);
        }
        token.clear();
    };
    for c in message.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            token.push(c);
        } else {
            flush(&mut token, &mut out);
            out.push(c);
        }
    }
    flush(&mut token, &mut out);
    out.chars().take(500).collect()
}

/// The first frame of a stack (Chrome's `at f (url:1:2)` or Firefox's and
/// Safari's `f@url:1:2`), without line and column and the URL's query, with
/// ids normalised (hashed bundle names, cache busters).
pub fn top_frame(stack: &str) -> String {
    for line in stack.lines() {
        let l = line.trim();
        let frame = if let Some(rest) = l.strip_prefix("at ") {
            rest
        } else if l.contains('@') && (l.contains(':') || l.contains('/')) {
            l
        } else {
            continue;
        };
        // Line and column: the trailing `:N:N` (possibly inside parentheses).
        let mut f = frame.trim_end_matches(')').to_string();
        for _ in 0..2 {
            if let Some(i) = f.rfind(':')
                && f[i + 1..].bytes().all(|b| b.is_ascii_digit())
                && i + 1 < f.len()
            {
                f.truncate(i);
            }
        }
        if let Some(q) = f.find('?') {
            f.truncate(q);
        }
        if frame.ends_with(')') && f.contains('(') {
            f.push(')');
        }
        return normalise_message(&f);
    }
    String::new()
}

/// An error's fingerprint: its type, normalised message and top frame,
/// hashed. Occurrences with the same fingerprint are one issue.
pub fn fingerprint(error_type: &str, message: &str, stack: &str) -> String {
    let basis = format!(
        "{}\n{}\n{}",
        error_type,
        normalise_message(message),
        top_frame(stack)
    );
    spoor_core::secret::hash(&basis)[..16].to_string()
}
