//! Spoor's product rules that need no IO: how events make sessions and
//! people (identity links, customers' summaries), what the CRM does with an event
//! (contacts, timelines, lead scores, tasks), how friction is counted (rage
//! and dead clicks, errors, form errors, vitals), how widget calls are metered,
//! when an alert fires, and the bookkeeping of stored files.
//!
//! Each module takes values and returns values: the store reads what a rule
//! needs and writes what it derives (`spoor-store`), the server calls the
//! rules on what requests carry (`spoor-server`). Nothing here opens a file,
//! a socket or a database, or reads the clock: times come in as arguments. Only
//! a new widget's id comes from the system's randomness.

pub mod alerts;
pub mod closed;
pub mod crm;
pub mod customers;
pub mod files;
pub mod friction;
pub mod insights;
pub mod metering;
pub mod sessions;
pub mod traits;
