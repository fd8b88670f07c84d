use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, the only form instants take in the database.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// An instant as people read it in a list: `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn instant(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| {
            format!(
                "{} {:02}:{:02} UTC",
                evident_core::format_date(t.date()),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
}
