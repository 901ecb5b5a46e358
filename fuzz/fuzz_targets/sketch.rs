//! Stored sketches read back from the database, whatever bytes a row holds:
//! the rollups' HyperLogLog (spoor_core::sketch) and the web vitals' quantile
//! sketch (spoor_core::quantiles).
#![no_main]

use libfuzzer_sys::fuzz_target;
use spoor_core::{quantiles, sketch};

fuzz_target!(|data: &[u8]| {
    // HyperLogLog: any bytes give a whole sketch (malformed ones an empty
    // one), and merging is a union: never below either side.
    let hll = sketch::DistinctSketch::from_bytes(data);
    assert_eq!(hll.to_bytes().len(), 4096);
    let estimate = hll.estimate();
    let mut merged = sketch::DistinctSketch::default();
    merged.insert("visitor");
    merged.merge(&hll);
    assert!(merged.estimate() >= estimate.min(1));
    assert_eq!(sketch::DistinctSketch::from_bytes(&hll.to_bytes()), hll);

    // Quantiles: six bytes a bucket; any bytes decode.
    let q = quantiles::QuantileSketch::from_bytes(data);
    let count = q.count();
    assert_eq!(count == 0, q.quantile(0.5).is_none());
    let mut last = 0.0;
    for p in [0.0, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0] {
        if let Some(v) = q.quantile(p) {
            assert!(v.is_finite() && v >= 0.0, "q{p} = {v}");
            assert!(v >= last, "quantiles fall: q{p} = {v} < {last}");
            last = v;
        }
    }
    assert!(q.count_at_most(f64::INFINITY) <= count);
    assert!(q.count_at_most(1e3) <= q.count_at_most(1e6));
    let again = quantiles::QuantileSketch::from_bytes(&q.to_bytes());
    assert!(again.count() <= count);
    let mut sum = q.clone();
    sum.merge(&again);
    assert_eq!(sum.count(), count + again.count());
});
