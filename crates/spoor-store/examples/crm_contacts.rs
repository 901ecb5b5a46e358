//! Fills a store's CRM with contacts, for the contacts-list benchmark
//! (`bench/crm.sh`): `cust-0` ... `cust-N-1`, each with the email and name the
//! load generator's business events carry (so events land on them), a lead
//! status from the funnel, a score, revenue and a last activity in the last
//! 90 days. Writes through `Store::apply_crm`, as the CRM processor does.
//!
//! cargo run --release -p spoor-store --example crm_contacts -- CONTACTS (DIR | postgres://...)

use std::time::{Duration, Instant};

use rand::Rng;
use spoor_store::crm::{Contact, CrmConfig, CrmDelta, IdKind};
use spoor_store::pg::PgConfig;
use spoor_store::{Store, StoreConfig};

/// Contacts written per transaction.
const CHUNK: usize = 50_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let total: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let place = args
        .next()
        .expect("give a data directory or a PostgreSQL URL");
    let config = if place.starts_with("postgres") {
        StoreConfig::Postgres(PgConfig {
            url: place,
            schema: "spoor".into(),
            pool_size: 2,
            statement_timeout: Duration::from_secs(600),
            ca_file: None,
        })
    } else {
        StoreConfig::sqlite(&place)
    };
    let store = Store::open(&config).expect("open store");
    let crm = CrmConfig::default();
    let now = spoor_core::time::now_ms();
    let mut rng = rand::rng();
    let started = Instant::now();
    for chunk in (0..total).step_by(CHUNK) {
        let merges = store.crm_changes().expect("read");
        let mut delta = CrmDelta {
            merges,
            ..CrmDelta::default()
        };
        for i in chunk..(chunk + CHUNK).min(total) {
            let user = format!("cust-{i}");
            let email = format!("cust-{i}@example.com");
            let id = spoor_store::crm::new_contact_id(1, Some(&user), Some(&email));
            // Most leads stay new; fewer go further down the funnel.
            let stage = match rng.random_range(0..100) {
                0..60 => 0,
                60..80 => 1,
                80..90 => 2,
                _ => 3,
            };
            let last = now - rng.random_range(0..90 * 86_400_000i64);
            let score = rng.random_range(0.0..120.0f64);
            let contact = Contact {
                id: id.clone(),
                project_id: 1,
                user_id: Some(user.clone()),
                email: Some(email.clone()),
                first_name: Some("Customer".into()),
                last_name: Some(i.to_string()),
                phone: None,
                lead_source: crm.lead_source.clone(),
                lead_status: crm.statuses[stage].clone(),
                last_activity: Some(last),
                last_action: Some("Viewed Car 1".into()),
                last_vehicle_viewed: Some("Car 1".into()),
                last_search_location: None,
                estimated_deal_value: None,
                total_bookings: i64::from(stage == 3),
                total_revenue: if stage == 3 {
                    rng.random_range(50.0..900.0)
                } else {
                    0.0
                },
                website_visits: rng.random_range(0..20),
                score_norm: score * crm.scale(now),
                created_at: last - 86_400_000,
                updated_at: now,
            };
            for s in &crm.statuses[..=stage] {
                delta.reached.push((1, id.clone(), s.clone(), last));
            }
            delta.identities.push(((1, IdKind::User, user), id.clone()));
            delta
                .identities
                .push(((1, IdKind::Email, email), id.clone()));
            delta.contacts.push((contact, None));
        }
        store.apply_crm(None, &delta).expect("write contacts");
        eprintln!("{} contacts", (chunk + CHUNK).min(total));
    }
    println!(
        "{{\"contacts\": {total}, \"seconds\": {:.1}}}",
        started.elapsed().as_secs_f64()
    );
}
