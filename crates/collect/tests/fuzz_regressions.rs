//! Inputs the fuzzer (`scripts/fuzz`) found that once made an importer panic, each fed back
//! exactly as found (in `fuzz-regressions/`): the importer must now refuse it with a reason.

fn found(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fuzz-regressions/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn refused(kind: &str, input: &[u8]) -> String {
    let kind = evident_collect::kind(kind).unwrap();
    evident_collect::import(kind, "found", input, &[])
        .expect_err("the input is refused")
        .to_string()
}

#[test]
fn osquery_unix_time_beyond_milliseconds() {
    // A unixTime whose milliseconds do not fit in 64 bits overflowed the conversion.
    let err = refused("osquery", &found("osquery-unix-time-overflow.jsonl"));
    assert_eq!(
        err,
        "found: line 3: unixTime 5555555551790000100 is not a time (too far from 1970)"
    );
}
