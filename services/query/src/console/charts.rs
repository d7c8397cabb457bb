//! Small line charts drawn as SVG on the server: no script, no library,
//! readable at a glance, scaled to the page's width by the browser.

use maud::{Markup, html};

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 120.0;
const PAD: f64 = 4.0;

/// One line: its name (in the legend), its points, oldest first, and its
/// CSS class (the colour).
pub(crate) struct Line<'a> {
    pub(crate) name: &'a str,
    pub(crate) points: &'a [f64],
    pub(crate) class: &'a str,
}

fn polyline(points: &[f64], max: f64) -> String {
    let steps = points.len().saturating_sub(1).max(1) as f64;
    points
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let x = PAD + (WIDTH - 2.0 * PAD) * i as f64 / steps;
            let y = HEIGHT - PAD - (HEIGHT - 2.0 * PAD) * (value / max);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A chart of `lines` sharing one scale from 0; `caption` says what and over
/// what span, and is the chart's accessible name together with each line's
/// latest and highest value.
pub(crate) fn chart(caption: &str, unit: &str, lines: &[Line<'_>]) -> Markup {
    let max = lines
        .iter()
        .flat_map(|line| line.points.iter().copied())
        .fold(0.0_f64, f64::max);
    let scale = if max > 0.0 { max } else { 1.0 };
    let summary: Vec<String> = lines
        .iter()
        .map(|line| {
            let latest = line.points.last().copied().unwrap_or(0.0);
            let top = line.points.iter().copied().fold(0.0_f64, f64::max);
            format!("{}: now {latest:.0}, highest {top:.0} {unit}", line.name)
        })
        .collect();
    let label = format!("{caption}. {}", summary.join("; "));
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } preserveAspectRatio="none" role="img" aria-label=(label) {
                line.axis x1="0" y1=(HEIGHT - PAD) x2=(WIDTH) y2=(HEIGHT - PAD) {}
                @for line in lines {
                    @if !line.points.is_empty() {
                        polyline class={ "series " (line.class) } points=(polyline(line.points, scale)) {}
                    }
                }
            }
            figcaption {
                (caption) " · top of scale " (format!("{max:.0}")) " " (unit)
                ul.legend {
                    @for (line, text) in lines.iter().zip(&summary) {
                        li class=(line.class) { (text) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_span_the_width_and_the_highest_touches_the_top() {
        let drawn = polyline(&[0.0, 5.0, 10.0], 10.0);
        assert_eq!(drawn, "4.0,116.0 300.0,60.0 596.0,4.0");
    }

    #[test]
    fn an_empty_or_flat_chart_is_drawn_without_dividing_by_zero() {
        let markup = chart(
            "Accepted per minute",
            "events",
            &[Line {
                name: "accepted",
                points: &[0.0, 0.0],
                class: "accepted",
            }],
        )
        .into_string();
        assert!(markup.contains("4.0,116.0 596.0,116.0"), "{markup}");
        assert!(!markup.contains("NaN"), "{markup}");
    }
}
