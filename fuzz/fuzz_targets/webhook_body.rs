//! A webhook delivery's body, whatever its bytes: read into events or refused with a
//! message, never a panic; every event read has the fields the store keys it by.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    match leadflow_server::parse_events(body) {
        Ok(events) => {
            assert!(events.len() <= 1000);
            for e in events {
                // Keyed by subscription, event id and time: a duplicate delivery of
                // the same event gets the same key.
                assert!(e.key.ends_with(&format!(":{}", e.occurred_at)), "{}", e.key);
            }
        }
        Err(message) => assert!(!message.is_empty()),
    }
});
