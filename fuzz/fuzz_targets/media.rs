//! Uploaded screenshots and videos: the PNG check (every chunk, its CRC, IHDR
//! first, IEND last) and the WebM header check (spoor_core::media).
#![no_main]

use libfuzzer_sys::fuzz_target;
use spoor_core::media::{check_png, check_webm};

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = check_png(data) {
        assert!(info.width > 0 && info.height > 0);
        assert!(data.starts_with(b"\x89PNG\r\n\x1a\n"));
        // IHDR's 13 bytes and IEND's 12 at least follow the signature.
        assert!(data.len() >= 8 + 25 + 12);
    }
    if check_webm(data).is_ok() {
        assert!(data.len() >= 64 && data.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]));
    }
});
