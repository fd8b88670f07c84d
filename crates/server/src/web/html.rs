//! Small helpers for what pages print: dates, sizes, links. Markup comes from templates only;
//! the one page written here is the error page, which must not depend on them.

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The plain page of a 5xx: a reference id to quote, nothing from inside the server.
pub fn error_page(reference: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Something went wrong</title>\
         <link rel=\"stylesheet\" href=\"/static/evident.css\"></head><body><main class=\"error-page\">\
         <h1>Something went wrong</h1><p>The server could not complete this request. Nothing you sent was \
         lost or half-written. If it happens again, give your administrator this reference:</p>\
         <p class=\"ref\">{}</p><p><a href=\"/\">Back to the dashboard</a></p></main></body></html>",
        esc(reference)
    )
}

/// The plain page of a refusal (4xx): its status and the reason, escaped.
pub fn message_page(code: u16, reason: &str, message: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{code}</title>\
         <link rel=\"stylesheet\" href=\"/static/evident.css\"></head><body><main class=\"error-page\">\
         <h1>{}</h1><p>{}</p><p><a href=\"/\">Back to the dashboard</a></p></main></body></html>",
        esc(reason),
        esc(message)
    )
}

/// A date-time in ms as `YYYY-MM-DD HH:MM` UTC.
pub fn when(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
}

pub use evident_core::text::url_encode;

/// A size as people read it: "512 bytes", "300 KB", "1.5 MB", "100 MB".
pub fn human_bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "KB")];
    for (size, unit) in UNITS {
        if n >= size {
            let whole = n / size;
            let tenth = (n % size) * 10 / size;
            return if tenth == 0 || whole >= 100 {
                format!("{whole} {unit}")
            } else {
                format!("{whole}.{tenth} {unit}")
            };
        }
    }
    format!("{n} bytes")
}

/// The parameters of `q` named in `keys` that have a value, as `?k=v&…` (empty when none): a
/// page's view carried over to its downloads and links.
pub fn keep_query(q: &std::collections::BTreeMap<String, String>, keys: &[&str]) -> String {
    let kept: Vec<String> = q
        .iter()
        .filter(|(k, v)| !v.is_empty() && keys.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect();
    if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    }
}
