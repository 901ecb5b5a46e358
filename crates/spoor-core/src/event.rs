//! The event model: a validated Segment message plus what Spoor computed at ingest.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The six Segment message types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    Track,
    Identify,
    Page,
    Screen,
    Group,
    Alias,
}

impl MessageType {
    pub const ALL: [MessageType; 6] = [
        MessageType::Track,
        MessageType::Identify,
        MessageType::Page,
        MessageType::Screen,
        MessageType::Group,
        MessageType::Alias,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Track => "track",
            MessageType::Identify => "identify",
            MessageType::Page => "page",
            MessageType::Screen => "screen",
            MessageType::Group => "group",
            MessageType::Alias => "alias",
        }
    }

    pub fn parse(s: &str) -> Option<MessageType> {
        MessageType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// What Spoor derives from the request at ingest and stores with the event, so that
/// analytics never parse a user agent or look up an address again.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Enrichment {
    /// The client address, truncated unless the project keeps full addresses.
    pub ip: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub os: Option<String>,
    pub os_version: Option<String>,
    /// `desktop`, `mobile`, `tablet`, `bot` or `unknown`.
    pub device_type: Option<String>,
    pub is_bot: bool,
}

/// The track event that ends a session (sent by the SDK on sign-out and page
/// unload, and by seed 004's session-end route).
pub const SESSION_END: &str = "$session_end";

/// A validated message, ready to be stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub message_id: String,
    /// The client's own timestamp in ms (0 when it sent none). Together with the
    /// project and `message_id` it forms the deduplication key: a retry re-sends
    /// the same message, so it carries the same client timestamp, and keys that
    /// start with a time stay append-mostly as the store grows (see ARCHITECTURE.md).
    pub dedup_ts: i64,
    pub kind: MessageType,
    /// `event` for a track, `name` for a page or screen, `groupId` for a group.
    pub name: Option<String>,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// `context.sessionId` (RudderStack's field, set by Spoor's SDK).
    pub session_id: Option<String>,
    /// Corrected event time, ms since the epoch.
    pub timestamp: i64,
    /// When Spoor received the message, ms since the epoch.
    pub received_at: i64,
    pub url: Option<String>,
    pub referrer: Option<String>,
    pub enrichment: Enrichment,
    /// The normalised message as JSON text (messageId, timestamp, receivedAt and
    /// originalTimestamp filled in).
    pub body: String,
}

impl Event {
    /// The stored message and its enrichment as one JSON object, as exports show it.
    pub fn to_json(&self, project: &str) -> Value {
        let mut body: Value =
            serde_json::from_str(&self.body).unwrap_or_else(|_| Value::Object(Default::default()));
        if let Value::Object(map) = &mut body {
            map.insert("projectId".into(), Value::String(project.to_string()));
            map.insert(
                "enrichment".into(),
                serde_json::to_value(&self.enrichment).unwrap_or(Value::Null),
            );
        }
        body
    }
}
