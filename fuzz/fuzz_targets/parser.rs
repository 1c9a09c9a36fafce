//! Arbitrary bytes, cut at fuzzer-chosen points, fed to `ClientParser`: no panic, and the
//! same ops and errors whatever the cuts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz::check_client_parser(data));
