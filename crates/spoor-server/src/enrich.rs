//! Enrichment at ingest: user agent, bot flag, geolocation and the stored address.
//!
//! Geolocation reads a MaxMind-format database from a local file; nothing is fetched
//! at run time. Both record layouts in use are read: MaxMind's GeoIP2/GeoLite2 and
//! DB-IP's MaxMind-compatible files (nested `country.iso_code`, `subdivisions`,
//! `city.names`), and the flat layout of the ip-location-db packages
//! (`country_code`, `state1`, `city`).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, header};
use serde::Deserialize;
use spoor_core::Enrichment;
use spoor_core::useragent::{self, Agent};

const AGENT_CACHE_ENTRIES: usize = 4_096;

#[derive(Debug, thiserror::Error)]
#[error("cannot open the GeoIP database {path}: {reason}")]
pub struct GeoError {
    path: PathBuf,
    reason: String,
}

#[derive(Deserialize)]
struct Names<'a> {
    #[serde(borrow)]
    names: Option<BTreeMap<&'a str, &'a str>>,
}

#[derive(Deserialize)]
struct IsoCode<'a> {
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CityField<'a> {
    Flat(&'a str),
    #[serde(borrow)]
    Nested(Names<'a>),
}

#[derive(Deserialize)]
struct GeoRecord<'a> {
    #[serde(borrow)]
    country: Option<IsoCode<'a>>,
    #[serde(borrow)]
    subdivisions: Option<Vec<Names<'a>>>,
    #[serde(borrow)]
    city: Option<CityField<'a>>,
    country_code: Option<&'a str>,
    state1: Option<&'a str>,
}

fn english<'a>(n: &Names<'a>) -> Option<&'a str> {
    n.names.as_ref().and_then(|m| m.get("en").copied())
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Place {
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
}

pub struct Enricher {
    geo: Option<maxminddb::Reader<Vec<u8>>>,
    /// Parsed user agents. A site's visitors use a few hundred distinct agents, and
    /// parsing one costs several microseconds, more than the rest of a single
    /// event's validation.
    agents: Mutex<HashMap<String, Arc<Agent>>>,
    /// Set once a lookup has failed, so a database in an unknown layout is
    /// reported once rather than for every event.
    warned: std::sync::atomic::AtomicBool,
}

impl Enricher {
    pub fn new(geoip_db: Option<&Path>) -> Result<Enricher, GeoError> {
        let geo = match geoip_db {
            None => None,
            Some(path) => Some(
                maxminddb::Reader::open_readfile(path).map_err(|e| GeoError {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })?,
            ),
        };
        Ok(Enricher {
            geo,
            agents: Mutex::default(),
            warned: Default::default(),
        })
    }

    /// The parsed agent, from the cache when it has been seen.
    pub fn agent(&self, ua: &str) -> Arc<Agent> {
        let mut cache = self.agents.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(agent) = cache.get(ua) {
            return agent.clone();
        }
        // Bounded: start again rather than track recency; a full cache means the
        // agents are unusually varied (or forged) and recency would not help.
        if cache.len() >= AGENT_CACHE_ENTRIES {
            cache.clear();
        }
        let agent = Arc::new(useragent::parse(ua));
        cache.insert(ua.to_string(), agent.clone());
        agent
    }

    /// Where an address is, when a database is configured and knows it.
    pub fn locate(&self, ip: IpAddr) -> Place {
        let Some(reader) = &self.geo else {
            return Place::default();
        };
        let rec = match reader
            .lookup(ip)
            .and_then(|found| found.decode::<GeoRecord>())
        {
            Ok(Some(rec)) => rec,
            Ok(None) => return Place::default(),
            Err(e) => {
                if !self.warned.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    tracing::warn!(error = %e, "GeoIP lookup failed; is the database in MaxMind's or ip-location-db's layout?");
                }
                return Place::default();
            }
        };
        let country = rec.country.and_then(|c| c.iso_code).or(rec.country_code);
        let region = rec
            .subdivisions
            .as_ref()
            .and_then(|s| s.first())
            .and_then(english)
            .or(rec.state1);
        let city = match &rec.city {
            Some(CityField::Flat(s)) => Some(*s),
            Some(CityField::Nested(n)) => english(n),
            None => None,
        };
        let own = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
        Place {
            country: own(country),
            region: own(region),
            city: own(city),
        }
    }

    /// The enrichment stored with an event from this agent and address.
    pub fn enrich(
        &self,
        agent: &Agent,
        place: &Place,
        ip: IpAddr,
        keep_full_ip: bool,
    ) -> Enrichment {
        let shown = if keep_full_ip {
            ip
        } else {
            spoor_core::ip::truncate(ip)
        };
        Enrichment {
            ip: Some(shown.to_string()),
            country: place.country.clone(),
            region: place.region.clone(),
            city: place.city.clone(),
            ..agent_enrichment(agent)
        }
    }
}

/// What an agent alone tells (no address, so no place): an imported row
/// that names no address is enriched with this.
pub fn agent_enrichment(agent: &Agent) -> Enrichment {
    Enrichment {
        browser: agent.browser.clone(),
        browser_version: agent.browser_version.clone(),
        os: agent.os.clone(),
        os_version: agent.os_version.clone(),
        device_type: Some(agent.device_type.to_string()),
        is_bot: agent.is_bot,
        ..Enrichment::default()
    }
}

/// The agent a request's own `User-Agent` speaks for: the end user's browser
/// when a browser sent the request, nobody (`""`) when a back end did.
///
/// Bot detection is about the person browsing, so a message's
/// `context.userAgent` comes first, and the request's header stands in only
/// for a browser's own request. A back end that relays its users' events posts
/// with an HTTP library (python-requests, axios, node-fetch, Go's client, curl),
/// whose agent says nothing about the user and which bot lists flag: read, it
/// would hide every person, session and order the back end reports.
///
/// Browsers mark their requests: every fetch, XHR and beacon of a current
/// browser carries `Sec-Fetch-Mode`, and a cross-origin POST (the SDK's case on
/// older browsers too) carries `Origin`. HTTP libraries send neither unless
/// told to.
pub fn request_agent(headers: &HeaderMap) -> &str {
    let from_browser =
        headers.contains_key("sec-fetch-mode") || headers.contains_key(header::ORIGIN);
    if !from_browser {
        return "";
    }
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Remembers the last agent and place looked up: the messages of one request
/// nearly always share both, so each is looked up once per request.
#[derive(Default)]
pub struct RequestMemo {
    agent: Option<(String, Arc<Agent>)>,
    place: Option<(IpAddr, Place)>,
}

impl RequestMemo {
    pub fn agent(&mut self, enricher: &Enricher, ua: &str) -> Arc<Agent> {
        if self.agent.as_ref().is_none_or(|(u, _)| u != ua) {
            self.agent = Some((ua.to_string(), enricher.agent(ua)));
        }
        self.agent.as_ref().expect("just set").1.clone()
    }

    pub fn place(&mut self, enricher: &Enricher, ip: IpAddr) -> &Place {
        if self.place.as_ref().is_none_or(|(i, _)| *i != ip) {
            self.place = Some((ip, enricher.locate(ip)));
        }
        &self.place.as_ref().expect("just set").1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, value.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_request_agent_speaks_for_a_browser_only() {
        // A browser's request, marked either way, and both.
        for marks in [
            &[("sec-fetch-mode", "cors")][..],
            &[("origin", "https://shop.example")],
            &[("sec-fetch-mode", "no-cors"), ("origin", "null")],
        ] {
            let mut pairs = vec![("user-agent", CHROME)];
            pairs.extend_from_slice(marks);
            assert_eq!(request_agent(&headers(&pairs)), CHROME, "{marks:?}");
        }
        // Back ends' libraries: their agent is nobody's browser.
        for library in [
            "python-requests/2.31.0",
            "axios/1.6.2",
            "node-fetch",
            "Go-http-client/1.1",
            "curl/8.5.0",
            CHROME,
        ] {
            assert_eq!(request_agent(&headers(&[("user-agent", library)])), "");
        }
        // A browser's request without an agent, and nothing at all.
        assert_eq!(
            request_agent(&headers(&[("origin", "https://a.example")])),
            ""
        );
        assert_eq!(request_agent(&HeaderMap::new()), "");
    }

    #[test]
    fn libraries_agents_would_be_flagged_as_bots() {
        // Why the header is not read from back ends: the bot lists know them.
        for library in ["python-requests/2.31.0", "curl/8.5.0", "Go-http-client/1.1"] {
            assert!(useragent::parse(library).is_bot, "{library}");
        }
        assert!(!useragent::parse("").is_bot);
    }
}
