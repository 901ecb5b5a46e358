//! The web dashboard: the committed build in `dashboard/dist` (made by
//! `npm run build --prefix dashboard`), compiled into the binary so that serving it
//! needs no Node.js and nothing from the network.
//!
//! - `GET /` and `GET /setup` give the one page (`index.html`), never cached
//!   without revalidation; the page routes by its hash, so no other path is needed.
//! - `GET /assets/app.js` and `GET /assets/app.css` carry a strong ETag (a hash of
//!   the bytes, computed once) and answer `If-None-Match` with 304. The page asks
//!   for them as `?v=HASH`: that address can never name other bytes, so it is
//!   cached for a year as immutable; any other address is revalidated.
//! - Gzip when the client accepts it, compressed once on first use.
//! - A Content-Security-Policy that allows this origin only, on every response here.
//! - The recording player is a page of its own, `/assets/player.html` with
//!   `player.js` and `player.css`, which the dashboard frames only when a recording
//!   is opened (index.html names its versioned address). Its policy differs from
//!   the dashboard's in two words, explained at `PLAYER_CSP`.

use std::io::Write;
use std::sync::LazyLock;

use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::caching;
use super::error::ApiError;

const INDEX: &str = include_str!("../../../../dashboard/dist/index.html");
const APP_JS: &[u8] = include_bytes!("../../../../dashboard/dist/app.js");
const APP_CSS: &[u8] = include_bytes!("../../../../dashboard/dist/app.css");
const PLAYER_HTML: &str = include_str!("../../../../dashboard/dist/player.html");
const PLAYER_JS: &[u8] = include_bytes!("../../../../dashboard/dist/player.js");
const PLAYER_CSS: &[u8] = include_bytes!("../../../../dashboard/dist/player.css");

// The dashboard's own pages need nothing beyond this origin. Its recording page
// frames the player (`frame-src` falls back to `default-src 'self'`) and plays
// video recordings from the API (`media-src` likewise), so neither is named.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                   script-src 'self'; connect-src 'self'; frame-ancestors 'none'";
/// The player's page. rrweb rebuilds the recorded page in an `about:blank` iframe,
/// which inherits this policy: the recorded `<style>` elements and `style`
/// attributes, and rrweb's own rules, are inline styles, refused without
/// `'unsafe-inline'` (Chromium reports each one). They are allowed here only, not
/// on the dashboard: this page holds nothing but the player, scripts stay `'self'`
/// (rrweb never runs recorded scripts; its iframe is sandboxed without
/// `allow-scripts`), and images, fonts and requests stay on this origin, so a
/// replay fetches nothing from the recorded site. The dashboard frames this page,
/// hence `frame-ancestors 'self'`.
const PLAYER_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                          script-src 'self'; connect-src 'self'; frame-ancestors 'self'";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    csp: &'static str,
    body: &'static [u8],
    gzip: Vec<u8>,
    /// The `v` of the page's address for this asset.
    version: String,
    etag: HeaderValue,
    /// The gzip bytes are another representation, so another strong ETag.
    etag_gzip: HeaderValue,
}

impl Asset {
    fn new(name: &'static str, content_type: &'static str, body: &'static [u8]) -> Asset {
        Asset::with_csp(name, content_type, CSP, body)
    }

    fn with_csp(
        name: &'static str,
        content_type: &'static str,
        csp: &'static str,
        body: &'static [u8],
    ) -> Asset {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(body).expect("writing to memory");
        let version = format!("{:016x}", caching::fnv1a64(body));
        let etag =
            |suffix: &str| HeaderValue::from_str(&format!("\"{version}{suffix}\"")).expect("ASCII");
        Asset {
            name,
            content_type,
            csp,
            body,
            gzip: gz.finish().expect("writing to memory"),
            etag: etag(""),
            etag_gzip: etag(".gz"),
            version,
        }
    }
}

static ASSETS: LazyLock<[Asset; 5]> = LazyLock::new(|| {
    [
        Asset::new("app.js", "application/javascript; charset=utf-8", APP_JS),
        Asset::new("app.css", "text/css; charset=utf-8", APP_CSS),
        Asset::with_csp(
            "player.html",
            "text/html; charset=utf-8",
            PLAYER_CSP,
            PLAYER_HTML.as_bytes(),
        ),
        Asset::new(
            "player.js",
            "application/javascript; charset=utf-8",
            PLAYER_JS,
        ),
        Asset::new("player.css", "text/css; charset=utf-8", PLAYER_CSS),
    ]
});

fn security_headers(csp: &'static str) -> [(HeaderName, HeaderValue); 3] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
    ]
}

/// The dashboard.
// `GET /` and `GET /setup`: the page, revalidated on every load so that a
// new build's asset addresses are seen at once.
#[utoipa::path(
    get,
    path = "/",
    tag = super::access::PUBLIC,
    responses((status = 200, description = "The page", content_type = "text/html", body = String)),
)]
pub async fn index() -> Response {
    (
        security_headers(CSP),
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        INDEX,
    )
        .into_response()
}

/// A file of the dashboard (script, style sheet); ?v= of the current build
/// makes it cacheable for a year.
#[utoipa::path(
    get,
    path = "/assets/{file}",
    tag = super::access::PUBLIC,
    params(
        ("file" = String, Path, description = "The file's name"),
        ("v" = Option<String>, Query, description = "The build's hash of the file, as the page names it"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag this answered before"),
    ),
    responses(
        (status = 200, description = "The file", content(
            (String = "text/javascript"),
            (String = "text/css"),
            (String = "text/html"),
        )),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such file", body = super::error::ErrorBody),
    ),
)]
pub async fn asset(
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == file) else {
        return ApiError::NotFound(format!("no dashboard asset {file:?}")).into_response();
    };
    let gzip = accepts_gzip(&headers);
    let etag = if gzip { &asset.etag_gzip } else { &asset.etag };
    let versioned = query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .any(|pair| pair.strip_prefix("v=") == Some(asset.version.as_str()));
    let common = (
        security_headers(asset.csp),
        [
            (header::ETAG, etag.clone()),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(if versioned { IMMUTABLE } else { "no-cache" }),
            ),
            (header::VARY, HeaderValue::from_static("Accept-Encoding")),
        ],
    );
    if caching::none_match(&headers, etag) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let content_type = (
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    if gzip {
        let encoding = (header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        (common, [content_type, encoding], asset.gzip.clone()).into_response()
    } else {
        (common, [content_type], asset.body).into_response()
    }
}

/// True if `Accept-Encoding` allows gzip: named (or `x-gzip`), else through `*`,
/// with a weight above zero.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut any = None;
    for coding in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let weight = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match name.as_str() {
            "gzip" | "x-gzip" => gzip = Some(weight > 0.0),
            "*" => any = Some(weight > 0.0),
            _ => {}
        }
    }
    gzip.or(any).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn the_page_asks_for_the_assets_by_the_hash_of_the_embedded_bytes() {
        // Else a stale dist/index.html would make browsers cache the wrong bytes for a year.
        for asset in ASSETS.iter() {
            let address = format!("/assets/{}?v={}", asset.name, asset.version);
            // The player's script and style are asked for by the player's page, which the app's page names.
            let (page, name) = if asset.name.starts_with("player.") && asset.name != "player.html" {
                (PLAYER_HTML, "player.html")
            } else {
                (INDEX, "index.html")
            };
            assert!(
                page.contains(&address),
                "dashboard/dist/{name} does not ask for {address}: run `npm run build --prefix dashboard`"
            );
        }
    }

    #[test]
    fn only_the_player_may_be_framed_and_use_inline_styles() {
        for asset in ASSETS.iter() {
            let player = asset.name == "player.html";
            assert_eq!(
                asset.csp.contains("'unsafe-inline'"),
                player,
                "{}",
                asset.name
            );
            assert_eq!(
                asset.csp.contains("frame-ancestors 'self'"),
                player,
                "{}",
                asset.name
            );
            assert!(!asset.csp.contains("script-src 'self' '"), "{}", asset.name);
        }
    }

    #[test]
    fn gzip_is_chosen_only_when_accepted() {
        let accepts = |v: &str| accepts_gzip(&with(header::ACCEPT_ENCODING, v));
        assert!(accepts("gzip, deflate, br, zstd"));
        assert!(accepts("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts("*"));
        assert!(!accepts("br, deflate"));
        assert!(!accepts("gzip;q=0, *"));
        assert!(!accepts("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn gzip_bytes_decompress_to_the_asset() {
        use std::io::Read;
        for asset in ASSETS.iter() {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&asset.gzip[..])
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, asset.body, "{}", asset.name);
            assert!(asset.gzip.len() < asset.body.len());
        }
    }
}
