//! Spoor's domain: what an event is, which messages are valid, how timestamps are
//! corrected, and how a request is enriched. No IO, no HTTP, no SQL: plain functions
//! that the server and the stores share.

pub mod csv_export;
pub mod domains;
pub mod event;
pub mod import;
pub mod ip;
pub mod limits;
pub mod login_backoff;
pub mod media;
pub mod password;
pub mod pattern;
pub mod quantiles;
pub mod range;
pub mod replay;
pub mod secret;
pub mod seed;
pub mod sketch;
pub mod time;
pub mod useragent;
pub mod validate;

pub use event::{Enrichment, Event, MessageType};
pub use limits::Limits;
pub use validate::{Rejection, ValidationContext};
