//! Small HTML helpers for fragments built in Rust (charts, heat maps); everything that holds
//! data is escaped here or by askama.

pub fn esc(s: &str) -> String {
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

/// Horizontal stacked bars, one per row: (label, [(class, count)]).
pub fn stacked_bars(rows: &[(String, Vec<(&'static str, usize)>)]) -> String {
    let row_h = 26;
    let label_w = 190.0;
    let width = 640.0;
    let bar_w = width - label_w - 10.0;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {}\" role=\"img\" aria-label=\"Control status by category\">",
        rows.len() * row_h + 4
    );
    for (i, (label, parts)) in rows.iter().enumerate() {
        let y = i * row_h + 2;
        let total: usize = parts.iter().map(|p| p.1).sum();
        svg.push_str(&format!("<text x=\"0\" y=\"{}\">{}</text>", y + 16, esc(label)));
        let mut x = label_w;
        let mut title = Vec::new();
        for (class, n) in parts {
            if *n == 0 || total == 0 {
                continue;
            }
            let w = bar_w * *n as f64 / total as f64;
            svg.push_str(&format!(
                "<rect class=\"bar-{class}\" x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"18\"><title>{} {}</title></rect>",
                y + 3,
                n,
                class.replace('_', " ")
            ));
            title.push(format!("{n} {}", class.replace('_', " ")));
            x += w;
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A line of the score over time: (day label, score).
pub fn trend(points: &[(String, f64)]) -> String {
    if points.len() < 2 {
        return String::new();
    }
    let (w, h) = (640.0, 120.0);
    let step = w / (points.len() - 1) as f64;
    let coords: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                h - v.clamp(0.0, 100.0) / 100.0 * (h - 10.0) - 5.0
            )
        })
        .collect();
    format!(
        "<svg class=\"trend\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"Checks passing over the last {} days, from {} to {}\">\
         <polyline points=\"{}\"/></svg>",
        points.len(),
        esc(&points[0].0),
        esc(&points[points.len() - 1].0),
        coords.join(" ")
    )
}

/// Percent-encodes everything but unreserved characters (for `?next=` and query links).
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

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
