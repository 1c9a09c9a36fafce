//! Arbitrary bytes decoded into steps (client input chunks, protocol fragments, time
//! advances, disconnects, writer drains and stalls) applied to an in-process engine with a
//! few clients; invariants after each step and an empty server after everybody left.
//!
//! The driver and its invariants live in `engine/tests/sim/engine_fuzz.rs`, where the
//! engine's simulation test also runs them on stable Rust over seeded inputs.
#![no_main]

#[path = "../../engine/tests/sim/engine_fuzz.rs"]
mod engine_fuzz;

libfuzzer_sys::fuzz_target!(|data: &[u8]| engine_fuzz::run(data));
