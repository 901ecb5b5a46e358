//! A session-recording chunk as `POST /v1/recordings` takes it: a gzip chunk
//! checked as it is inflated within a bound (spoor_core::media::check_gzip_chunk),
//! a plain one checked whole (check_chunk). The route itself
//! (crates/spoor-server/src/http/uploads.rs) only reads the body and stores
//! what these pure steps accept. A gzip chunk must be judged as inflating it
//! whole and checking that would judge it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spoor_core::limits::gunzip;
use spoor_core::media::{ChunkError, ChunkLimits, check_chunk, check_gzip_chunk};
use spoor_core::replay::EventsScanner;

/// Small limits, so that the fuzzer reaches them.
const MAX_DECODED: usize = 256 * 1024;
const LIMITS: ChunkLimits = ChunkLimits {
    max_events: 64,
    max_id_chars: 40,
};

fuzz_target!(|data: &[u8]| {
    let checked = if data.starts_with(&[0x1f, 0x8b]) {
        let streamed = check_gzip_chunk(data, MAX_DECODED, &LIMITS);
        // The reference: inflate whole within the bound, then check.
        match gunzip(data, MAX_DECODED) {
            Ok(out) => {
                assert!(out.len() <= MAX_DECODED);
                let whole = check_chunk(&out, &LIMITS);
                assert_eq!(
                    streamed.as_ref().ok(),
                    whole.as_ref().ok(),
                    "streamed and whole checks disagree"
                );
            }
            Err(spoor_core::limits::GunzipError::TooLarge { .. }) => {
                // Read as it inflates, a chunk may be refused as invalid JSON
                // before the bound is reached; it is never accepted.
                assert!(streamed.is_err(), "a chunk past the bound was accepted");
            }
            Err(_) => assert!(streamed.is_err(), "a chunk that is not gzip was accepted"),
        }
        if let Err(ChunkError::TooLarge { max }) = &streamed {
            assert_eq!(*max, MAX_DECODED);
        }
        streamed.ok()
    } else {
        check_chunk(data, &LIMITS).ok()
    };
    let Some(info) = checked else {
        return;
    };
    assert!(info.events >= 1 && info.events <= LIMITS.max_events);
    // A replay streams what the scanner finds inside the events array: for
    // every chunk accepted, that is the chunk's events, whatever the pieces.
    if !data.starts_with(&[0x1f, 0x8b]) {
        let mut scanner = EventsScanner::new();
        let mut inside = Vec::new();
        for piece in data.chunks(7) {
            let range = scanner.feed(piece).expect("an accepted chunk scans");
            inside.extend_from_slice(&piece[range]);
        }
        scanner.finish().expect("an accepted chunk scans to its end");
        // The events found, put back into a chunk of their own, are the
        // same events (checked the way uploads are, with no recursion limit,
        // since a page's DOM nests deep).
        let mut again = br#"{"session_id":"s","chunk_id":"c","events":["#.to_vec();
        again.extend_from_slice(&inside);
        again.extend_from_slice(b"]}");
        let found = check_chunk(&again, &LIMITS).expect("the events found are a chunk's events");
        assert_eq!(
            (found.events, found.first_ts, found.last_ts),
            (info.events, info.first_ts, info.last_ts)
        );
    }
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
