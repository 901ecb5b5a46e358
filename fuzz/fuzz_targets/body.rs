//! A request body as every ingestion route reads it (the server's
//! `http::body::read`): gzip inflated within a bound when it starts as gzip,
//! then the JSON depth scan before any parsing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use spoor_core::limits::{GunzipError, Limits, gunzip, json_depth};

/// Smaller than the server's default (2 MiB), so that a bomb reaches the
/// bound in microseconds and the fuzzer spends its time elsewhere; the code
/// path is the same.
const MAX_DECODED: usize = 64 * 1024;

fn depth_of(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth_of).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth_of).max().unwrap_or(0),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let decoded = if data.starts_with(&[0x1f, 0x8b]) {
        match gunzip(data, MAX_DECODED) {
            Ok(out) => {
                assert!(out.len() <= MAX_DECODED);
                out
            }
            Err(GunzipError::TooLarge { max }) => {
                assert_eq!(max, MAX_DECODED);
                return;
            }
            Err(GunzipError::Invalid(_)) => return,
        }
    } else {
        data.to_vec()
    };
    let depth = json_depth(&decoded);
    if depth > Limits::default().max_json_depth {
        return;
    }
    // Within the bound the parser never reaches its own recursion limit, and
    // the scan counted exactly the nesting the parser found.
    match serde_json::from_slice::<Value>(&decoded) {
        Ok(v) => assert_eq!(depth_of(&v), depth),
        Err(e) => assert!(!e.to_string().contains("recursion limit"), "{e}"),
    }
});
