#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evident_fuzz::check_rules(data));
