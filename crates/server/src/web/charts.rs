//! Charts as numbers for the templates to draw (SVG in `dashboard.html`): coordinates are
//! computed here, every label is escaped by askama there.

/// One bar segment: its status class, where it starts, how wide, and what it counts.
pub struct Segment {
    pub class: &'static str,
    pub x: String,
    pub width: String,
    pub count: usize,
    pub label: String,
}

pub struct Bar {
    pub label: String,
    /// Baseline of the label's text.
    pub text_y: usize,
    /// Top of the bar.
    pub y: usize,
    pub segments: Vec<Segment>,
}

/// Horizontal stacked bars, one per row.
pub struct StackedBars {
    pub width: usize,
    pub height: usize,
    pub bars: Vec<Bar>,
}

const ROW_H: usize = 26;
const LABEL_W: f64 = 190.0;
const WIDTH: f64 = 640.0;

impl StackedBars {
    /// Rows of (label, [(status class, count)]).
    pub fn new(rows: &[(String, Vec<(&'static str, usize)>)]) -> StackedBars {
        let bar_w = WIDTH - LABEL_W - 10.0;
        let bars = rows
            .iter()
            .enumerate()
            .map(|(i, (label, parts))| {
                let y = i * ROW_H + 2;
                let total: usize = parts.iter().map(|p| p.1).sum();
                let mut x = LABEL_W;
                let mut segments = Vec::new();
                for (class, n) in parts {
                    if *n == 0 || total == 0 {
                        continue;
                    }
                    let w = bar_w * *n as f64 / total as f64;
                    segments.push(Segment {
                        class,
                        x: format!("{x:.1}"),
                        width: format!("{w:.1}"),
                        count: *n,
                        label: class.replace('_', " "),
                    });
                    x += w;
                }
                Bar {
                    label: label.clone(),
                    text_y: y + 16,
                    y: y + 3,
                    segments,
                }
            })
            .collect();
        StackedBars {
            width: WIDTH as usize,
            height: rows.len() * ROW_H + 4,
            bars,
        }
    }
}

/// A line of a percentage over days.
pub struct Trend {
    /// SVG polyline points.
    pub points: String,
    pub days: usize,
    pub first: String,
    pub last: String,
}

impl Trend {
    /// `None` with fewer than two days: a line needs two points.
    pub fn new(points: &[(String, f64)]) -> Option<Trend> {
        if points.len() < 2 {
            return None;
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
        Some(Trend {
            points: coords.join(" "),
            days: points.len(),
            first: points[0].0.clone(),
            last: points[points.len() - 1].0.clone(),
        })
    }
}
