//! User-agent enrichment: browser, OS, device type and the bot flag.
//!
//! woothee's rules need no data file and parse in about a microsecond; the bot flag
//! adds isbot's pattern list, which knows the headless browsers and monitoring
//! agents woothee does not.

use std::sync::OnceLock;

/// What a user-agent string says about the client.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Agent {
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub os: Option<String>,
    pub os_version: Option<String>,
    /// `desktop`, `mobile`, `tablet`, `bot` or `unknown`.
    pub device_type: &'static str,
    pub is_bot: bool,
}

fn known(s: &str) -> Option<String> {
    (!s.is_empty() && s != "UNKNOWN").then(|| s.to_string())
}

fn bots() -> &'static isbot::Bots {
    static BOTS: OnceLock<isbot::Bots> = OnceLock::new();
    BOTS.get_or_init(isbot::Bots::default)
}

/// Parses a user agent. An empty one (server-side senders) yields `unknown`, not a bot.
pub fn parse(ua: &str) -> Agent {
    if ua.trim().is_empty() {
        return Agent {
            device_type: "unknown",
            ..Agent::default()
        };
    }
    let parser = woothee::parser::Parser::new();
    let result = parser.parse(ua);
    let is_bot = result.as_ref().is_some_and(|r| r.category == "crawler") || bots().is_bot(ua);
    let Some(r) = result else {
        return Agent {
            device_type: if is_bot { "bot" } else { "unknown" },
            is_bot,
            ..Agent::default()
        };
    };
    let tablet = r.os == "iPad"
        || ua.contains("Tablet")
        || (ua.contains("Android") && !ua.contains("Mobile"));
    let device_type = if is_bot {
        "bot"
    } else if tablet {
        "tablet"
    } else {
        match r.category {
            "pc" => "desktop",
            "smartphone" | "mobilephone" => "mobile",
            _ => "unknown",
        }
    };
    Agent {
        browser: known(r.name),
        browser_version: known(r.version),
        os: known(r.os),
        os_version: known(&r.os_version),
        device_type,
        is_bot,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ua: &str, browser: &str, os: &str, device: &str, bot: bool) {
        let a = parse(ua);
        assert_eq!(a.browser.as_deref().unwrap_or("-"), browser, "{ua}");
        assert_eq!(a.os.as_deref().unwrap_or("-"), os, "{ua}");
        assert_eq!(a.device_type, device, "{ua}");
        assert_eq!(a.is_bot, bot, "{ua}");
    }

    #[test]
    fn common_agents() {
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Chrome",
            "Windows 10",
            "desktop",
            false,
        );
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            "Safari",
            "iPhone",
            "mobile",
            false,
        );
        check(
            "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
            "Safari",
            "iPad",
            "tablet",
            false,
        );
        check(
            "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
            "Chrome",
            "Android",
            "tablet",
            false,
        );
        check(
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Googlebot",
            "-",
            "bot",
            true,
        );
        check(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
            "Chrome",
            "Linux",
            "bot",
            true,
        );
        check("", "-", "-", "unknown", false);
    }
}
