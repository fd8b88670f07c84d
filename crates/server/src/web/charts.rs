//! Charts as numbers for the templates to draw (SVG in `dashboard.html`): coordinates are
//! computed here, every label is escaped by askama there.

/// One bar segment: its status class, where it starts, how wide, and what it counts.
pub struct Segment {
    pub class: &'static str,
    pub x: String,
    pub width: String,
    pub count: usize,
    pub label: String,
    /// Where the count is written inside the segment, when the segment is wide enough for it.
    pub count_x: Option<String>,
}

pub struct Bar {
    pub label: String,
    /// Baseline of the label's text.
    pub text_y: usize,
    /// Top of the bar.
    pub y: usize,
    pub segments: Vec<Segment>,
}

/// A mark on an axis: where, and what it reads.
pub struct Tick {
    pub at: String,
    pub label: String,
}

/// Horizontal stacked bars, one per row, each the whole of its row (shares, not counts), over
/// an axis marked 0 to 100 %.
pub struct StackedBars {
    pub width: usize,
    pub height: usize,
    pub bars: Vec<Bar>,
    /// The axis under the bars: its line's y, the text's baseline, and its ticks.
    pub axis_y: usize,
    pub axis_text_y: usize,
    pub ticks: Vec<Tick>,
    pub plot_x: String,
    pub plot_end: String,
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
                    let digits = n.to_string().len() as f64;
                    segments.push(Segment {
                        class,
                        x: format!("{x:.1}"),
                        width: format!("{w:.1}"),
                        count: *n,
                        label: class.replace('_', " "),
                        count_x: (w >= 8.0 * digits + 8.0).then(|| format!("{:.1}", x + w / 2.0)),
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
        let axis_y = rows.len() * ROW_H + 4;
        let ticks = [0, 25, 50, 75, 100]
            .into_iter()
            .map(|p| Tick {
                at: format!("{:.1}", LABEL_W + bar_w * p as f64 / 100.0),
                label: format!("{p}%"),
            })
            .collect();
        StackedBars {
            width: WIDTH as usize,
            height: axis_y + 20,
            bars,
            axis_y,
            axis_text_y: axis_y + 15,
            ticks,
            plot_x: format!("{LABEL_W:.1}"),
            plot_end: format!("{:.1}", LABEL_W + bar_w),
        }
    }
}

/// A line of a percentage over days, inside axes: 0, 50 and 100 % on the left, the first,
/// middle and last days below.
pub struct Trend {
    /// SVG polyline points.
    pub points: String,
    pub first: String,
    pub last: String,
    /// Horizontal grid lines with their percentage.
    pub levels: Vec<Tick>,
    /// Dates under the plot.
    pub dates: Vec<Tick>,
    pub plot_x: usize,
    pub plot_end: usize,
    pub plot_bottom: usize,
    /// The latest value, as a person reads it ("94%").
    pub latest: String,
}

const TREND_W: f64 = 640.0;
const TREND_H: f64 = 150.0;
const TREND_LEFT: f64 = 44.0;
const TREND_BOTTOM: f64 = 24.0;

impl Trend {
    /// `None` with fewer than two days: a line needs two points.
    pub fn new(points: &[(String, f64)]) -> Option<Trend> {
        if points.len() < 2 {
            return None;
        }
        let (plot_w, plot_h) = (TREND_W - TREND_LEFT - 8.0, TREND_H - TREND_BOTTOM - 6.0);
        let y_of = |v: f64| 6.0 + plot_h - v.clamp(0.0, 100.0) / 100.0 * plot_h;
        let step = plot_w / (points.len() - 1) as f64;
        let coords: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, (_, v))| format!("{:.1},{:.1}", TREND_LEFT + i as f64 * step, y_of(*v)))
            .collect();
        let levels = [0, 50, 100]
            .into_iter()
            .map(|p| Tick {
                at: format!("{:.1}", y_of(p as f64)),
                label: format!("{p}%"),
            })
            .collect();
        let mid = points.len() / 2;
        let dates = [0, mid, points.len() - 1]
            .into_iter()
            .map(|i| Tick {
                at: format!("{:.1}", TREND_LEFT + i as f64 * step),
                label: points[i].0.clone(),
            })
            .collect();
        Some(Trend {
            points: coords.join(" "),
            first: points[0].0.clone(),
            last: points[points.len() - 1].0.clone(),
            levels,
            dates,
            plot_x: TREND_LEFT as usize,
            plot_end: (TREND_W - 8.0) as usize,
            plot_bottom: (6.0 + plot_h) as usize,
            latest: format!("{:.0}%", points[points.len() - 1].1),
        })
    }
}
