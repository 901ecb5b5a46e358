//! People and customers: the rules are `spoor-domain`'s
//! (`spoor_domain::customers`), re-exported here under the path the store's
//! callers use; what is the store's is the columns both backends read and
//! write.

pub use spoor_domain::customers::*;

/// A customer row's columns, in the order both backends read and write them.
pub const CUSTOMER_COLUMNS: &str = "project_id, identified, person, email, name, traits_at, \
    created_trait_at, first_seen_at, registered_at, last_seen_at, last_login_at, total_sessions, \
    total_events, total_orders, total_bookings, total_reviews, total_revenue, last_order_at, \
    last_order_amount, last_order_currency, last_booking_at, last_booking_service, \
    primary_device_type, primary_browser, primary_os, tallies, properties";
