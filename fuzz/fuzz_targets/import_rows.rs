//! `spoor import`'s rows: an arbitrary JSON object read as a row of every
//! source (spoor_core::import), each message it becomes validated. A row is
//! skipped with a reason or becomes messages; nothing panics, no row becomes
//! more than the bound, and every stored message has an id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use spoor_core::import::{MAX_MESSAGES_PER_ROW, Source, Translator, arrival, normal_time};
use spoor_fuzz::{context, json, validate_checked};

fuzz_target!(|data: &[u8]| {
    let Some(Value::Object(row)) = json(data) else {
        return;
    };
    let mut translator = Translator::default();
    for (source, _, _) in Source::ALL {
        translator.learn(source, &row);
        let Ok(messages) = translator.translate(source, row.clone()) else {
            continue;
        };
        assert!(messages.len() as u64 <= MAX_MESSAGES_PER_ROW);
        for mut m in messages {
            let received_at = arrival(&mut m.message, context().received_at);
            let mut ctx = context();
            ctx.received_at = received_at;
            if let Some(v) = validate_checked(m.message, &ctx) {
                assert!(!v.event.message_id.is_empty());
            }
        }
    }
    for v in row.values() {
        if let Some(t) = normal_time(v) {
            assert!(spoor_core::time::parse_iso(&t).is_some(), "{t}");
        }
    }
});
