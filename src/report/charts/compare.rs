//! `compare_<A>_vs_<B>.png`: every count metric of all platforms in period A and period B as
//! pairs of bars, the change in brackets; ratio (with intervals) and median in the subtitle.
//! Draws its `Data` only.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ChartOptions;
use super::axis::{SlotAxis, empty_chart};
use super::frame::*;
use crate::analysis::compare::{Comparison, METRICS, is_ratio};

/// One metric of platform `all` in periods A and B.
pub struct Pair {
    /// The metric (a `metrics.csv` column).
    pub metric: &'static str,
    /// Value in A.
    pub a: Option<f64>,
    /// Value in B.
    pub b: Option<f64>,
    /// A − B.
    pub delta: Option<f64>,
}

/// What the chart draws: the counts of platform `all` in both periods, and the ratio and median
/// for the subtitle.
pub struct Data {
    /// Label of period A.
    pub label_a: String,
    /// Label of period B.
    pub label_b: String,
    /// Count metrics, top to bottom.
    pub counts: Vec<Pair>,
    /// Participation ratio of A and B.
    pub ratio: [Option<f64>; 2],
    /// Wilson intervals of A and B.
    pub band: [Option<(f64, f64)>; 2],
    /// Median response minutes of A and B.
    pub median: [Option<f64>; 2],
    /// False when the comparison has no `all` rows.
    pub has_data: bool,
}

impl Data {
    /// The numbers of a comparison.
    pub fn of(c: &Comparison) -> Data {
        let value = |metric: &'static str| -> Pair {
            let row = c
                .rows
                .iter()
                .find(|r| r.platform == "all" && r.metric == metric);
            Pair {
                metric,
                a: row.and_then(|r| r.a),
                b: row.and_then(|r| r.b),
                delta: row.and_then(|r| r.delta),
            }
        };
        let pair = |m: &'static str| {
            let p = value(m);
            [p.a, p.b]
        };
        let (lo, hi) = (pair("ratio_low"), pair("ratio_high"));
        Data {
            label_a: c.label_a.clone(),
            label_b: c.label_b.clone(),
            counts: METRICS
                .iter()
                .filter(|m| !is_ratio(m) && **m != "median_response_minutes")
                .map(|m| value(m))
                .collect(),
            ratio: pair("participation_ratio"),
            band: [lo[0].zip(hi[0]), lo[1].zip(hi[1])],
            median: pair("median_response_minutes"),
            has_data: c.rows.iter().any(|r| r.platform == "all"),
        }
    }
}

/// Period A against period B, every count metric as a pair of bars.
pub fn draw(data: &Data, o: &ChartOptions) -> Result<Vec<u8>, String> {
    let counts = &data.counts;
    let has_data = data.has_data;
    let pct = |v: Option<f64>, band: Option<(f64, f64)>| match (v, band) {
        (Some(v), Some((lo, hi))) => {
            format!("{:.0} % ({:.0}–{:.0} %)", v * 100.0, lo * 100.0, hi * 100.0)
        }
        (Some(v), None) => format!("{:.0} %", v * 100.0),
        _ => "n/a".to_string(),
    };
    let mins = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{} min", num(v)));
    let subtitle = format!(
        "All platforms.   Participation ratio: A {}, B {}.   Median response: A {}, B {}.",
        pct(data.ratio[0], data.band[0]),
        pct(data.ratio[1], data.band[1]),
        mins(data.median[0]),
        mins(data.median[1])
    );
    let title = format!("Period A vs period B: {} vs {}", data.label_a, data.label_b);
    let (label_a, label_b) = (&data.label_a, &data.label_b);
    render(o, |root, t| {
        let legend = [
            (
                Mark::Bar(MONTH_A),
                format!("A: {label_a} (change against B in brackets)"),
            ),
            (Mark::Bar(MONTH_B), format!("B: {label_b}")),
        ];
        let area = header(root, t, &title, Some(&subtitle), &legend)?;
        if !has_data {
            return empty_chart(&area, t, "count");
        }
        let n = counts.len();
        // Bottom-to-top slot order, so the first metric is drawn at the top.
        let labels: Vec<String> = counts.iter().rev().map(|c| c.metric.to_string()).collect();
        let style = (FAMILY, t.label).into_font();
        let mut widest = 0;
        for l in &labels {
            widest = widest.max(
                area.estimate_text_size(l, &style.clone().into())
                    .map_err(de)?
                    .0,
            );
        }
        let y_axis = SlotAxis {
            ticks: (0..n).collect(),
            labels,
        };
        let top = counts
            .iter()
            .flat_map(|c| [c.a, c.b])
            .flatten()
            .fold(0.0f64, f64::max);
        let x_max = headroom((top * 1.1).ceil() as u64);
        let mut chart = ChartBuilder::on(&area)
            .margin_left(t.pad)
            .margin_right(t.right_margin)
            .margin_top(t.pad)
            .x_label_area_size(t.x_axis_height())
            .y_label_area_size(widest as i32 + 24)
            .build_cartesian_2d(0u64..x_max, y_axis)
            .map_err(de)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_labels(10)
            .label_style((FAMILY, t.label).into_font().color(&TEXT))
            .axis_desc_style((FAMILY, t.desc).into_font().color(&TEXT))
            .x_desc("count in the period")
            .draw()
            .map_err(de)?;
        let (_, plot_h) = chart.plotting_area().dim_in_pixel();
        let slot = f64::from(plot_h) / n as f64;
        let m = bar_margin(slot, 2);
        let half = (1.0 - 2.0 * m) / 2.0;
        let label_style = (FAMILY, t.small)
            .into_font()
            .color(&TEXT)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (k, Pair { a, b, delta, .. }) in counts.iter().enumerate() {
            let base = (n - 1 - k) as f64 + m;
            // A is the upper bar of the pair, B the lower one.
            for (value, color, bottom, text) in [
                (
                    *a,
                    MONTH_A,
                    base + half,
                    a.map(|v| match delta {
                        Some(d) => format!("{} ({})", num(v), signed(*d)),
                        None => num(v),
                    }),
                ),
                (*b, MONTH_B, base, b.map(num)),
            ] {
                let v = value.map_or(0, |v| v.max(0.0).round() as u64);
                if v > 0 {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(0, bottom), (v, bottom + half)],
                            color.filled(),
                        )))
                        .map_err(de)?;
                }
                let (px, py) = chart.backend_coord(&(v, bottom + half / 2.0));
                let text = text.unwrap_or_else(|| "n/a".into());
                root.draw_text(&text, &label_style, (px + 6, py))
                    .map_err(de)?;
            }
        }
        Ok(())
    })
}
