//! Quantiles that can be added up: a sketch of a distribution of values with
//! logarithmic buckets (as DDSketch), for the web vitals. Per-day sketches are
//! stored and merged, so percentiles over any range come from the sketches
//! instead of from every value. The stored form is read back from the
//! database, so decoding takes any bytes.

use std::collections::BTreeMap;

/// Values' distribution with a relative error of at most 1% on any quantile
/// (logarithmic buckets, as DDSketch): percentiles over any range are merged
/// from per-day sketches instead of read from every value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QuantileSketch {
    buckets: BTreeMap<i16, u64>,
    count: u64,
}

/// Bucket growth: a bucket's values are within 1% of its middle.
const GAMMA: f64 = 1.02;
/// Values at or below this are counted as zero.
const ZERO: f64 = 1e-4;
const ZERO_BUCKET: i16 = i16::MIN;

impl QuantileSketch {
    pub fn insert(&mut self, value: f64) {
        self.add(Self::bucket(value), 1);
    }

    fn bucket(value: f64) -> i16 {
        if !value.is_finite() || value <= ZERO {
            return ZERO_BUCKET;
        }
        (value.ln() / GAMMA.ln()).ceil().clamp(-30_000.0, 30_000.0) as i16
    }

    fn add(&mut self, bucket: i16, n: u64) {
        *self.buckets.entry(bucket).or_default() += n;
        self.count += n;
    }

    /// The value a bucket stands for: the middle of its range, in relative terms.
    fn value(bucket: i16) -> f64 {
        if bucket == ZERO_BUCKET {
            return 0.0;
        }
        2.0 * GAMMA.powi(i32::from(bucket)) / (GAMMA + 1.0)
    }

    pub fn merge(&mut self, other: &QuantileSketch) {
        for (b, n) in &other.buckets {
            self.add(*b, *n);
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The nearest-rank quantile (`q` in 0..=1): the value of the
    /// ceil(q·n)-th smallest, within 1%.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (b, n) in &self.buckets {
            seen += n;
            if seen >= rank {
                return Some(Self::value(*b));
            }
        }
        None
    }

    /// How many values are at most `limit` (to the bucket: within 1%).
    pub fn count_at_most(&self, limit: f64) -> u64 {
        let top = Self::bucket(limit);
        self.buckets.range(..=top).map(|(_, n)| *n).sum()
    }

    /// Six bytes a bucket: its index and its count (u32, little-endian).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buckets.len() * 6);
        for (b, n) in &self.buckets {
            out.extend_from_slice(&b.to_le_bytes());
            out.extend_from_slice(&(*n.min(&u64::from(u32::MAX)) as u32).to_le_bytes());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> QuantileSketch {
        let mut s = QuantileSketch::default();
        for c in bytes.chunks_exact(6) {
            let b = i16::from_le_bytes([c[0], c[1]]);
            let n = u32::from_le_bytes([c[2], c[3], c[4], c[5]]);
            s.add(b, u64::from(n));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(sorted: &[f64], q: f64) -> f64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    #[test]
    fn percentiles_are_within_one_percent_of_the_exact_ones() {
        // A skewed spread of load times, as pages have, from a fixed LCG.
        let mut x: u64 = 42;
        let mut values = Vec::new();
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            values.push(200.0 + 3000.0 * u * u * u + (x % 7) as f64);
        }
        // Split over days and merged back, as a report does.
        let mut days: Vec<QuantileSketch> = vec![QuantileSketch::default(); 7];
        for (i, v) in values.iter().enumerate() {
            days[i % 7].insert(*v);
        }
        let mut merged = QuantileSketch::default();
        for d in &days {
            merged.merge(&QuantileSketch::from_bytes(&d.to_bytes()));
        }
        values.sort_by(f64::total_cmp);
        assert_eq!(merged.count(), values.len() as u64);
        for q in [0.5, 0.75, 0.95, 0.99] {
            let want = exact(&values, q);
            let got = merged.quantile(q).unwrap();
            assert!((got - want).abs() / want <= 0.01, "q{q}: {got} vs {want}");
        }
        // CLS-like small scores, and zeros.
        let mut s = QuantileSketch::default();
        for v in [0.0, 0.0, 0.01, 0.05, 0.12, 0.3] {
            s.insert(v);
        }
        assert_eq!(s.quantile(0.25), Some(0.0));
        assert!((s.quantile(0.75).unwrap() - 0.12).abs() < 0.0012);
        assert_eq!(s.count_at_most(0.1), 4);
    }
}
