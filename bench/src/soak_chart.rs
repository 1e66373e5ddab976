//! The soak's chart: resident memory over time, one line per system, with
//! the two windows the verdict compares shaded. SVG text written directly,
//! like the ramp's chart (chart.rs), for the same reason.

use std::fmt::Write;

use crate::chart::svg_start;
use crate::report::SystemResult;

const W: f64 = 800.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

/// A system's name, colour and (seconds, MiB) points.
type Series<'a> = (&'a str, &'a str, Vec<(f64, f64)>);

/// A round step giving about five ticks over `span`.
fn step(span: f64) -> f64 {
    let raw = (span / 5.0).max(1e-9);
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|s| *s >= raw)
        .unwrap_or(raw)
}

pub fn rss_svg(results: &[SystemResult]) -> String {
    let series: Vec<Series> = results
        .iter()
        .zip(crate::chart::COLOURS)
        .filter_map(|(r, colour)| {
            let soak = r.soak.as_ref()?;
            let points = soak
                .rss_kib
                .iter()
                .map(|&(t, kib)| (t, kib as f64 / 1024.0))
                .collect();
            Some((r.system.name(), colour, points))
        })
        .collect();
    let points = series.iter().flat_map(|s| s.2.iter());
    let (mut tmax, mut ymax) = (1.0f64, 1.0f64);
    for &(t, mib) in points {
        tmax = tmax.max(t);
        ymax = ymax.max(mib);
    }
    let (xstep, ystep) = (step(tmax), step(ymax));
    let ymax = (ymax / ystep).ceil() * ystep;
    let px = |t: f64| LEFT + t / tmax * (W - LEFT - RIGHT);
    let py = |mib: f64| H - BOTTOM - mib / ymax * (H - TOP - BOTTOM);

    let mut s = svg_start(W, H, "Server resident memory during the soak (MiB)");
    // The windows compared: second quarter ("settled") and last quarter.
    for (from, to, name) in [(0.25, 0.5, "settled"), (0.75, 1.0, "last quarter")] {
        let (x0, x1) = (px(tmax * from), px(tmax * to));
        let _ = writeln!(
            s,
            r##"<rect x="{x0:.1}" y="{TOP}" width="{:.1}" height="{}" fill="#f3f3f3"/><text x="{:.1}" y="{}" text-anchor="middle" fill="#888">{name}</text>"##,
            x1 - x0,
            H - TOP - BOTTOM,
            (x0 + x1) / 2.0,
            TOP + 14.0
        );
    }
    let mut t = 0.0;
    while t <= tmax + 1e-9 {
        let x = px(t);
        let _ = writeln!(
            s,
            r##"<text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
            H - BOTTOM + 16.0,
            if tmax >= 600.0 {
                format!("{:.0} min", t / 60.0)
            } else {
                format!("{t:.0} s")
            }
        );
        t += xstep;
    }
    let mut v = 0.0;
    while v <= ymax + 1e-9 {
        let y = py(v);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{}" y="{:.1}" text-anchor="end">{v:.0}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0
        );
        v += ystep;
    }
    let _ = writeln!(
        s,
        r#"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="none" stroke="black"/>"#,
        W - LEFT - RIGHT,
        H - TOP - BOTTOM
    );
    for (i, (name, colour, pts)) in series.iter().enumerate() {
        let path: Vec<String> = pts
            .iter()
            .map(|&(t, mib)| format!("{:.1},{:.1}", px(t), py(mib)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" fill="{colour}">{name}</text>"#,
            LEFT + 10.0 + 110.0 * i as f64,
            H - 10.0
        );
    }
    s.push_str("</svg>\n");
    s
}
