#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evident_fuzz::oscal_catalog(data));
