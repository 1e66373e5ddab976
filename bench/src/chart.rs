//! The ramp's latency-vs-load chart, written as SVG text directly: two
//! log axes and a few polylines do not justify a plotting dependency.

use std::fmt::Write;

use crate::report::SystemResult;

const W: f64 = 800.0;
const H: f64 = 480.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;

/// A log10 axis mapping [lo, hi] onto [a, b] pixels.
struct Axis {
    lo: f64,
    hi: f64,
    a: f64,
    b: f64,
}

impl Axis {
    fn new(lo: f64, hi: f64, a: f64, b: f64) -> Axis {
        let lo = 10f64.powf(lo.max(1e-3).log10().floor());
        let hi = 10f64.powf(hi.max(lo * 10.0).log10().ceil());
        Axis { lo, hi, a, b }
    }

    fn at(&self, v: f64) -> f64 {
        let t = (v.max(self.lo).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10());
        self.a + t * (self.b - self.a)
    }

    /// 1, 2 and 5 times every power of ten in range.
    fn ticks(&self) -> Vec<f64> {
        let mut out = Vec::new();
        let mut p = self.lo;
        while p <= self.hi * 1.0001 {
            for m in [1.0, 2.0, 5.0] {
                if p * m <= self.hi * 1.0001 {
                    out.push(p * m);
                }
            }
            p *= 10.0;
        }
        out
    }
}

fn label(v: f64) -> String {
    if v >= 1000.0 {
        format!("{}k", v / 1000.0)
    } else {
        format!("{v}")
    }
}

/// An SVG document of `w` × `h` on white, with `title` centred on top (the
/// start every chart of the bench shares).
pub fn svg_start(w: f64, h: f64, title: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{title}</text>"#,
        w / 2.0
    );
    s
}

/// One colour per system, in the order they ran (five at most).
pub const COLOURS: [&str; 5] = ["#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#2ca02c"];

/// A system's name, colour and `(rate, p99, p50)` points.
type Series<'a> = (&'a str, &'a str, Vec<(f64, f64, f64)>);

/// p99 (solid) and p50 (dashed) latency per ramp step against the send
/// rate achieved, one colour per system, with the bound as a red line.
pub fn ramp_svg(results: &[SystemResult], bound_ms: f64) -> String {
    let series: Vec<Series> = results
        .iter()
        .zip(COLOURS)
        .filter_map(|(r, colour)| {
            let steps = &r.ramp.as_ref()?.steps;
            let points = steps
                .iter()
                .filter(|s| s.latency.samples > 0)
                .map(|s| (s.sent_per_sec, s.latency.p99_ms, s.latency.p50_ms))
                .collect();
            Some((r.system.name(), colour, points))
        })
        .collect();
    let all = series.iter().flat_map(|s| s.2.iter());
    let (mut xmin, mut xmax, mut ymin, mut ymax) = (f64::MAX, 1.0f64, bound_ms, bound_ms);
    for &(x, p99, p50) in all {
        xmin = xmin.min(x);
        xmax = xmax.max(x);
        ymin = ymin.min(p50);
        ymax = ymax.max(p99);
    }
    if xmin == f64::MAX {
        xmin = 1.0;
    }
    let x = Axis::new(xmin, xmax, LEFT, W - RIGHT);
    let y = Axis::new(ymin, ymax, H - BOTTOM, TOP);
    let mut s = svg_start(W, H, "Send→receive latency vs load (ramp)");
    for t in x.ticks() {
        let px = x.at(t);
        let _ = writeln!(
            s,
            r##"<line x1="{px:.1}" y1="{TOP}" x2="{px:.1}" y2="{}" stroke="#eee"/><text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"##,
            H - BOTTOM,
            H - BOTTOM + 16.0,
            label(t)
        );
    }
    for t in y.ticks() {
        let py = y.at(t);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            py + 4.0,
            label(t)
        );
    }
    let _ = writeln!(
        s,
        r#"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="none" stroke="black"/>"#,
        W - LEFT - RIGHT,
        H - TOP - BOTTOM
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">messages sent per second (all users; log)</text>"#,
        (LEFT + W - RIGHT) / 2.0,
        H - 18.0
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(18 {}) rotate(-90)" text-anchor="middle">latency, ms (log)</text>"#,
        (TOP + H - BOTTOM) / 2.0
    );
    let by = y.at(bound_ms);
    let _ = writeln!(
        s,
        r#"<line x1="{LEFT}" y1="{by:.1}" x2="{}" y2="{by:.1}" stroke="red" stroke-dasharray="2 3"/><text x="{}" y="{:.1}" fill="red" text-anchor="end">p99 bound {bound_ms} ms</text>"#,
        W - RIGHT,
        W - RIGHT - 4.0,
        by - 4.0
    );
    for (i, (name, colour, points)) in series.iter().enumerate() {
        let line = |pick: fn(&(f64, f64, f64)) -> f64| {
            points
                .iter()
                .map(|p| format!("{:.1},{:.1}", x.at(p.0), y.at(pick(p))))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            line(|p| p.1)
        );
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1" stroke-dasharray="5 4"/>"#,
            line(|p| p.2)
        );
        for p in points {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                x.at(p.0),
                y.at(p.1)
            );
        }
        let ly = TOP + 16.0 + 18.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="{colour}" stroke-width="2"/><text x="{}" y="{}">{name}: p99 (solid), p50 (dashed)</text>"#,
            LEFT + 10.0,
            LEFT + 34.0,
            LEFT + 40.0,
            ly + 4.0
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axis_spans_whole_decades() {
        let a = Axis::new(3.0, 420.0, 0.0, 300.0);
        assert_eq!((a.lo, a.hi), (1.0, 1000.0));
        assert!((a.at(10.0) - 100.0).abs() < 1e-9);
        assert!((a.at(1000.0) - 300.0).abs() < 1e-9);
        assert_eq!(a.ticks().first(), Some(&1.0));
    }

    #[test]
    fn an_empty_run_still_draws_a_valid_document() {
        let svg = ramp_svg(&[], 50.0);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }
}
