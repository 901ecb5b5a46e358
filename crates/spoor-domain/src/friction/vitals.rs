//! Web vitals: the metrics kept, their units and thresholds.

use super::*;

/// A web vital and Google's thresholds: at most `good` is good, above `poor`
/// is poor, between needs improvement.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[schema(as = VitalMetric)]
pub struct Metric {
    #[schema(schema_with = metric_names)]
    pub name: &'static str,
    /// ms, or "" for CLS.
    #[schema(schema_with = units)]
    pub unit: &'static str,
    pub good: f64,
    pub poor: f64,
}

/// A metric's ratings, best first.
pub const RATINGS: [&str; 3] = ["good", "needs_improvement", "poor"];

fn metric_names() -> utoipa::openapi::Object {
    crate::closed::one_of(&METRICS.map(|m| m.name))
}

fn units() -> utoipa::openapi::Object {
    let mut units: Vec<&str> = METRICS.iter().map(|m| m.unit).collect();
    units.sort_unstable();
    units.dedup();
    crate::closed::one_of(&units)
}

/// The metrics reported, in order. LOAD (the page's load event) has no
/// threshold of Google's; it uses LCP's. TTI (seed 002's time to interactive)
/// uses Lighthouse's.
pub const METRICS: [Metric; 7] = [
    Metric {
        name: "LCP",
        unit: "ms",
        good: 2500.0,
        poor: 4000.0,
    },
    Metric {
        name: "INP",
        unit: "ms",
        good: 200.0,
        poor: 500.0,
    },
    Metric {
        name: "CLS",
        unit: "",
        good: 0.1,
        poor: 0.25,
    },
    Metric {
        name: "FCP",
        unit: "ms",
        good: 1800.0,
        poor: 3000.0,
    },
    Metric {
        name: "TTFB",
        unit: "ms",
        good: 800.0,
        poor: 1800.0,
    },
    Metric {
        name: "LOAD",
        unit: "ms",
        good: 2500.0,
        poor: 4000.0,
    },
    Metric {
        name: "TTI",
        unit: "ms",
        good: 3800.0,
        poor: 7300.0,
    },
];

pub fn metric(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}

impl Metric {
    pub fn rating(&self, value: f64) -> &'static str {
        if value <= self.good {
            RATINGS[0]
        } else if value <= self.poor {
            RATINGS[1]
        } else {
            RATINGS[2]
        }
    }
}

/// The values' sketch a vitals row stores (`spoor_core::quantiles`).
pub use spoor_core::quantiles::QuantileSketch;
