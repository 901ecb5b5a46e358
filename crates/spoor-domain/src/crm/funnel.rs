//! The CRM's lead-status funnel.

use super::*;

/// The funnel: per status in order, contacts that reached it and contacts in
/// it now, and the conversion between consecutive statuses.
#[derive(Clone, Debug, Serialize, PartialEq, ToSchema)]
#[schema(as = LeadFunnel)]
pub struct Funnel {
    pub stages: Vec<Stage>,
    pub conversions: Vec<Conversion>,
}

#[derive(Clone, Debug, Serialize, PartialEq, ToSchema)]
#[schema(as = LeadStage)]
pub struct Stage {
    pub status: String,
    pub reached: i64,
    pub current: i64,
}

#[derive(Clone, Debug, Serialize, PartialEq, ToSchema)]
#[schema(as = LeadConversion)]
pub struct Conversion {
    pub from: String,
    pub to: String,
    pub rate: Option<f64>,
}

pub fn funnel(
    config: &CrmConfig,
    reached: &HashMap<String, i64>,
    current: &HashMap<String, i64>,
) -> Funnel {
    let stages: Vec<Stage> = config
        .statuses
        .iter()
        .map(|s| Stage {
            status: s.clone(),
            reached: reached.get(s).copied().unwrap_or(0),
            current: current.get(s).copied().unwrap_or(0),
        })
        .collect();
    let conversions = stages
        .windows(2)
        .map(|w| Conversion {
            from: w[0].status.clone(),
            to: w[1].status.clone(),
            rate: (w[0].reached > 0).then(|| w[1].reached as f64 / w[0].reached as f64),
        })
        .collect();
    Funnel {
        stages,
        conversions,
    }
}
