//! A session-recording chunk as `POST /v1/recordings` takes it: gzip inflated
//! within a bound when it starts as gzip, then the chunk check (its ids and
//! rrweb events; spoor_core::media::check_chunk). The route itself
//! (crates/spoor-server/src/http/uploads.rs) only reads the body and stores
//! what these two pure steps accept.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spoor_core::limits::gunzip;
use spoor_core::media::{ChunkLimits, check_chunk};

/// Small limits, so that the fuzzer reaches them.
const MAX_DECODED: usize = 256 * 1024;
const LIMITS: ChunkLimits = ChunkLimits {
    max_events: 64,
    max_id_chars: 40,
};

fuzz_target!(|data: &[u8]| {
    let json = if data.starts_with(&[0x1f, 0x8b]) {
        match gunzip(data, MAX_DECODED) {
            Ok(out) => {
                assert!(out.len() <= MAX_DECODED);
                out
            }
            Err(_) => return,
        }
    } else {
        data.to_vec()
    };
    let Ok(info) = check_chunk(&json, &LIMITS) else {
        return;
    };
    assert!(info.events >= 1 && info.events <= LIMITS.max_events);
    assert!(info.first_ts <= info.last_ts);
    assert!(info.first_ts >= 0);
    for id in [&info.session_id, &info.chunk_id] {
        assert!(!id.is_empty() && id.chars().count() <= LIMITS.max_id_chars);
    }
    for id in [&info.anonymous_id, &info.user_id] {
        assert!(
            id.as_ref()
                .is_none_or(|s| s.chars().count() <= LIMITS.max_id_chars)
        );
    }
    assert!(info.url.as_ref().is_none_or(|u| u.chars().count() <= 2048));
});
