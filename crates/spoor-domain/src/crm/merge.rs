//! Two contacts that turn out to be one person, combined.

use super::*;

/// Two contacts that are one person, combined into `into`: its fields win
/// where it has them, counts and revenue add up, scores add up, and the lead
/// status is the one further along the funnel.
pub fn merge(into: &Contact, from: &Contact, config: &CrmConfig, now: i64) -> Contact {
    let rank = |s: &str| config.statuses.iter().position(|x| x == s);
    let or = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
    Contact {
        id: into.id.clone(),
        project_id: into.project_id,
        user_id: or(&into.user_id, &from.user_id),
        email: or(&into.email, &from.email),
        first_name: or(&into.first_name, &from.first_name),
        last_name: or(&into.last_name, &from.last_name),
        phone: or(&into.phone, &from.phone),
        lead_source: into.lead_source.clone(),
        lead_status: if rank(&from.lead_status) > rank(&into.lead_status) {
            from.lead_status.clone()
        } else {
            into.lead_status.clone()
        },
        last_activity: into.last_activity.max(from.last_activity),
        last_action: if from.last_activity > into.last_activity {
            from.last_action.clone()
        } else {
            or(&into.last_action, &from.last_action)
        },
        last_vehicle_viewed: or(&into.last_vehicle_viewed, &from.last_vehicle_viewed),
        last_search_location: or(&into.last_search_location, &from.last_search_location),
        estimated_deal_value: into.estimated_deal_value.or(from.estimated_deal_value),
        total_bookings: into.total_bookings + from.total_bookings,
        total_revenue: into.total_revenue + from.total_revenue,
        website_visits: into.website_visits + from.website_visits,
        score_norm: into.score_norm + from.score_norm,
        created_at: into.created_at.min(from.created_at),
        updated_at: now,
    }
}
