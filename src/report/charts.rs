//! PNG charts drawn with plotters (bitmap backend, embedded DejaVu font) from a `Summary` or a
//! `Comparison`. Each renderer returns PNG bytes; `report::write_all` writes the files.
//! Must not touch Polars, files or the network.
//!
//! Layout shared by every chart: a bold title, an optional subtitle, a legend strip drawn above
//! the plot (so it never hides data), then the plot itself. Months sit on a categorical x axis
//! (one slot per dated month, the `undated` row is left out); when there are too many months
//! for their labels to fit, only every k-th month is labelled, k chosen among 2, 3, 4, 6, 12, 24…
//! so the labels fall on quarters or years. The unit tests also write every chart they render
//! to `<temp dir>/rapport-charts/*.png` for eyeballing.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Display;
use std::io::Cursor;
use std::ops::Range;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::register_font;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::analysis::compare::{Comparison, METRICS};
use crate::analysis::{MonthlyRow, Summary, UNDATED};

/// Chart size and thresholds.
#[derive(Debug, Clone, Copy)]
pub struct ChartOptions {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Months with fewer acts than this are marked on the ratio chart.
    pub low_volume_acts: u64,
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

const FAMILY: &str = "sans-serif";
const MIN_SIZE: (u32, u32) = (320, 240);
/// About 150 MB of RGB buffer.
const MAX_PIXELS: u64 = 50_000_000;

const CONVERSATION: RGBColor = RGBColor(46, 160, 67);
const BROADCAST: RGBColor = RGBColor(52, 114, 196);
const AMPLIFICATION: RGBColor = RGBColor(243, 146, 30);
const SELF_THREAD: RGBColor = RGBColor(150, 168, 192);
const PASSIVE: RGBColor = RGBColor(128, 50, 168);
const ENGAGED: RGBColor = RGBColor(0, 128, 128);
const RECIPROCATED: RGBColor = RGBColor(230, 110, 40);
const MONTH_A: RGBColor = RGBColor(52, 114, 196);
const MONTH_B: RGBColor = RGBColor(170, 180, 195);
const ALL_LINE: RGBColor = RGBColor(30, 30, 30);
const REFERENCE: RGBColor = RGBColor(200, 40, 40);
const GRID: RGBColor = RGBColor(225, 225, 225);
const TEXT: RGBColor = RGBColor(20, 20, 20);
const MUTED: RGBColor = RGBColor(90, 90, 90);

/// Stacking order of the activity-mix bars, bottom first.
const MIX: [(&str, RGBColor); 4] = [
    ("conversation", CONVERSATION),
    ("broadcast", BROADCAST),
    ("amplification", AMPLIFICATION),
    ("self_thread (not in ratio)", SELF_THREAD),
];

/// Stacked bars per month by mode.
pub fn activity_mix(summary: &Summary, o: &ChartOptions) -> Result<Vec<u8>, String> {
    let months = Months::of(summary);
    let mut panels: Vec<(String, String)> = vec![("all".into(), "all platforms".into())];
    if summary.platforms.len() > 1 {
        panels.extend(
            summary
                .platforms
                .iter()
                .map(|p| (p.as_str().to_string(), display_name(p.as_str()))),
        );
    }
    render(o, |root, t| {
        let mut legend: Vec<(Mark, String)> = MIX
            .iter()
            .map(|(name, color)| (Mark::Bar(*color), (*name).to_string()))
            .collect();
        legend.push((
            Mark::LinePoint(PASSIVE, true),
            "passive (not in ratio, right axis)".into(),
        ));
        let title = "Activity mix by month";
        let mut panels = panels.clone();
        let mut subtitle = (panels.len() > 1).then_some(
            "Top: all platforms together; below: one panel per platform (each with its own scale).",
        );
        if panels.len() > 1 {
            // Leave the per-platform panels out when they would be too short to read.
            let (_, h) = root.dim_in_pixel();
            let head = layout_header(root, t, title, subtitle, &legend, false)?;
            let room = (h as i32 - head - t.x_axis_height()) / panels.len() as i32;
            if room - t.caption_height() - 2 * t.pad < 50 {
                panels.truncate(1);
                subtitle = Some("All platforms together (too small for per-platform panels).");
            }
        }
        let area = header(root, t, title, subtitle, &legend)?;
        if months.is_empty() {
            return empty_chart(&area, t, "acts");
        }
        let axis_h = t.x_axis_height();
        let (_, h) = area.dim_in_pixel();
        let n = panels.len() as i32;
        let panel_h = ((h as i32 - axis_h) / n).max(1);
        let breaks: Vec<i32> = (1..n).map(|k| k * panel_h).collect();
        let areas = area.split_by_breakpoints::<i32, i32, _, _>([], breaks);
        // Same axis widths in every panel, so the months line up vertically.
        let (mut y_area, mut right_area) = (0, 0);
        for (key, _) in &panels {
            let (y_max, p_max) = mix_maxima(&months.rows(summary, key));
            y_area = y_area.max(t.y_axis_width(&area, &y_max.to_string())?);
            right_area = right_area.max(t.y_axis_width(&area, &p_max.to_string())?);
        }
        for (k, (panel, (key, name))) in areas.iter().zip(&panels).enumerate() {
            let layout = PanelLayout {
                caption: (panels.len() > 1).then_some(name.as_str()),
                with_x_labels: k + 1 == panels.len(),
                y_area,
                right_area,
            };
            mix_panel(panel, t, &months, summary, key, &layout)?;
        }
        Ok(())
    })
}

/// Participation ratio per month with a 50 % line; low-volume months marked.
pub fn participation_ratio(summary: &Summary, o: &ChartOptions) -> Result<Vec<u8>, String> {
    let months = Months::of(summary);
    let low = o.low_volume_acts;
    let multi = summary.platforms.len() > 1;
    render(o, |root, t| {
        let mut legend = vec![(
            Mark::Line(ALL_LINE, 4),
            if multi {
                "all platforms"
            } else {
                "participation ratio"
            }
            .to_string(),
        )];
        if multi {
            for p in &summary.platforms {
                legend.push((
                    Mark::Line(platform_color(p.as_str()), 2),
                    display_name(p.as_str()),
                ));
            }
        }
        legend.push((
            Mark::Dashed(REFERENCE),
            "50 %: as much conversation as broadcast".into(),
        ));
        if low > 0 {
            legend.push((Mark::Point(MUTED, true), format!("{low} or more acts")));
            legend.push((Mark::Point(MUTED, false), format!("fewer than {low} acts")));
        }
        let area = header(
            root,
            t,
            "Participation ratio: conversation / (conversation + broadcast + amplification)",
            Some("Share of your acts that were conversation; a gap means no act that month."),
            &legend,
        )?;
        if months.is_empty() {
            return empty_chart(&area, t, "participation ratio");
        }
        let y_area = t.y_axis_width(&area, "100 %")?;
        let x = months.axis(&area, t, y_area)?;
        let slot = slot_px(&area, y_area, months.len());
        let mut chart = ChartBuilder::on(&area)
            .margin_left(t.pad)
            .margin_right(t.right_margin)
            .margin_top(t.pad)
            .x_label_area_size(t.x_axis_height())
            .y_label_area_size(y_area)
            .build_cartesian_2d(x, -3f64..103f64)
            .map_err(de)?;
        let y_fmt = |v: &f64| format!("{v:.0} %");
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .y_labels(11)
            .y_label_formatter(&y_fmt)
            .label_style((FAMILY, t.label).into_font().color(&TEXT))
            .axis_desc_style((FAMILY, t.desc).into_font().color(&TEXT))
            .x_desc("month")
            .y_desc("participation ratio")
            .draw()
            .map_err(de)?;
        let n = months.len() as f64;
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, 50.0), (n, 50.0)],
                12,
                8,
                REFERENCE.stroke_width(2),
            ))
            .map_err(de)?;
        // Many months: thinner per-platform lines without markers, so `all` stays readable.
        let crowded = slot < 10.0;
        let r = (slot * 0.3).clamp(2.0, 5.0) as i32;
        let mut lines: Vec<(Vec<Option<&MonthlyRow>>, RGBAColor, u32, i32)> = Vec::new();
        if multi {
            for p in &summary.platforms {
                let rows = months.rows(summary, p.as_str());
                let color = platform_color(p.as_str());
                if crowded {
                    lines.push((rows, color.mix(0.6), 1, 0));
                } else {
                    lines.push((rows, color.to_rgba(), 2, (r - 1).max(2)));
                }
            }
        }
        let all_width = if crowded { 3 } else { 4 };
        lines.push((
            months.rows(summary, "all"),
            ALL_LINE.to_rgba(),
            all_width,
            r + 1,
        ));
        for (rows, color, width, radius) in &lines {
            let points: Vec<Option<(f64, f64, bool)>> = rows
                .iter()
                .enumerate()
                .map(|(i, row)| {
                    let row = (*row)?;
                    let ratio = row.participation_ratio?;
                    Some((i as f64 + 0.5, ratio * 100.0, row.acts() < low))
                })
                .collect();
            for segment in points.split(|p| p.is_none()) {
                let line: Vec<(f64, f64)> = segment.iter().flatten().map(|p| (p.0, p.1)).collect();
                if line.len() > 1 {
                    chart
                        .draw_series(LineSeries::new(line, color.stroke_width(*width)))
                        .map_err(de)?;
                }
            }
            if *radius > 0 {
                for (x, y, hollow) in points.iter().flatten() {
                    draw_marker(&mut chart, (*x, *y), *radius, *color, !*hollow)?;
                }
            }
        }
        if lines.iter().all(|(rows, ..)| {
            rows.iter()
                .flatten()
                .all(|r| r.participation_ratio.is_none())
        }) {
            note(
                chart.plotting_area().strip_coord_spec(),
                t,
                "no month with conversation, broadcast or amplification",
            )?;
        }
        Ok(())
    })
}

/// People engaged and reciprocated per month.
pub fn people(summary: &Summary, o: &ChartOptions) -> Result<Vec<u8>, String> {
    let months = Months::of(summary);
    render(o, |root, t| {
        let legend = [
            (
                Mark::Bar(ENGAGED),
                "people engaged (you conversed with them)".to_string(),
            ),
            (
                Mark::Bar(RECIPROCATED),
                "people reciprocated (they also wrote to you that month)".to_string(),
            ),
        ];
        let area = header(
            root,
            t,
            "People engaged and reciprocated per month",
            Some("All platforms together; distinct people per month."),
            &legend,
        )?;
        if months.is_empty() {
            return empty_chart(&area, t, "people");
        }
        let rows = months.rows(summary, "all");
        let top = rows
            .iter()
            .flatten()
            .map(|r| r.people_engaged.max(r.people_reciprocated))
            .max()
            .unwrap_or(0);
        let y_max = headroom(top);
        let y_area = t.y_axis_width(&area, &y_max.to_string())?;
        let x = months.axis(&area, t, y_area)?;
        let slot = slot_px(&area, y_area, months.len());
        let mut chart = ChartBuilder::on(&area)
            .margin_left(t.pad)
            .margin_right(t.right_margin)
            .margin_top(t.pad)
            .x_label_area_size(t.x_axis_height())
            .y_label_area_size(y_area)
            .build_cartesian_2d(x, 0u64..y_max)
            .map_err(de)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .y_labels(8)
            .label_style((FAMILY, t.label).into_font().color(&TEXT))
            .axis_desc_style((FAMILY, t.desc).into_font().color(&TEXT))
            .x_desc("month")
            .y_desc("people")
            .draw()
            .map_err(de)?;
        // Wide slots: two bars side by side. Narrow slots: the reciprocated bar (a subset of
        // the engaged people) drawn over the engaged one, since side-by-side bars would be
        // slivers.
        let side_by_side = slot >= 12.0;
        let m = bar_margin(slot, if side_by_side { 2 } else { 1 });
        let width = if side_by_side {
            (1.0 - 2.0 * m) / 2.0
        } else {
            1.0 - 2.0 * m
        };
        let label_style = (FAMILY, t.small)
            .into_font()
            .color(&MUTED)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        let labels = side_by_side && slot * width >= t.small * 2.2;
        let mut bars = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let Some(row) = row else { continue };
            let x0 = i as f64 + m;
            for (k, (value, color)) in [
                (row.people_engaged, ENGAGED),
                (row.people_reciprocated, RECIPROCATED),
            ]
            .into_iter()
            .enumerate()
            {
                let left = if side_by_side {
                    x0 + k as f64 * width
                } else {
                    x0
                };
                if value > 0 {
                    bars.push(Rectangle::new(
                        [(left, 0), (left + width, value)],
                        color.filled(),
                    ));
                }
                if labels {
                    let (px, py) = chart.backend_coord(&(left + width / 2.0, value));
                    root.draw_text(&value.to_string(), &label_style, (px, py - 3))
                        .map_err(de)?;
                }
            }
        }
        chart.draw_series(bars).map_err(de)?;
        Ok(())
    })
}

/// One metric of platform `all` in months A and B.
struct Pair {
    metric: &'static str,
    a: Option<f64>,
    b: Option<f64>,
    delta: Option<f64>,
}

/// Month A against month B, every metric.
pub fn comparison(c: &Comparison, o: &ChartOptions) -> Result<Vec<u8>, String> {
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
    let counts: Vec<Pair> = METRICS
        .iter()
        .filter(|m| !matches!(**m, "participation_ratio" | "median_response_minutes"))
        .map(|m| value(m))
        .collect();
    let has_data = c.rows.iter().any(|r| r.platform == "all");
    let ratio = value("participation_ratio");
    let (ra, rb) = (ratio.a, ratio.b);
    let median = value("median_response_minutes");
    let (ma, mb) = (median.a, median.b);
    let pct = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{:.0} %", v * 100.0));
    let mins = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{} min", num(v)));
    let subtitle = format!(
        "All platforms.   Participation ratio: A {}, B {}.   Median response: A {}, B {}.",
        pct(ra),
        pct(rb),
        mins(ma),
        mins(mb)
    );
    let title = format!("Month A vs month B: {} vs {}", c.month_a, c.month_b);
    render(o, |root, t| {
        let legend = [
            (
                Mark::Bar(MONTH_A),
                format!("A: {} (change against B in brackets)", c.month_a),
            ),
            (Mark::Bar(MONTH_B), format!("B: {}", c.month_b)),
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
            .x_desc("count in the month")
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

// ---------------------------------------------------------------------------------------------
// Activity-mix panel

/// Where a panel of the activity mix sits and what it shows around the plot.
struct PanelLayout<'a> {
    caption: Option<&'a str>,
    with_x_labels: bool,
    y_area: i32,
    right_area: i32,
}

/// Highest stacked bar and highest passive count, each with headroom.
fn mix_maxima(rows: &[Option<&MonthlyRow>]) -> (u64, u64) {
    let stack = |r: &MonthlyRow| r.conversation + r.broadcast + r.amplification + r.self_thread;
    let y_max = headroom(rows.iter().flatten().map(|r| stack(r)).max().unwrap_or(0));
    let p_max = headroom(rows.iter().flatten().map(|r| r.passive).max().unwrap_or(0));
    (y_max, p_max)
}

fn mix_panel(
    area: &Area<'_>,
    t: &Theme,
    months: &Months,
    summary: &Summary,
    platform: &str,
    layout: &PanelLayout<'_>,
) -> Result<(), String> {
    let PanelLayout {
        caption,
        with_x_labels,
        y_area,
        right_area,
    } = *layout;
    let area = match caption {
        Some(text) => {
            let cap_h = t.caption_height();
            let (top, rest) = area.split_vertically(cap_h);
            let style = (FAMILY, t.label, FontStyle::Bold)
                .into_font()
                .color(&TEXT)
                .pos(Pos::new(HPos::Left, VPos::Center));
            top.draw_text(text, &style, (t.pad, cap_h / 2 + 2))
                .map_err(de)?;
            rest
        }
        None => area.clone(),
    };
    let rows = months.rows(summary, platform);
    let (y_max, p_max) = mix_maxima(&rows);
    let mut x = months.axis_with_right(&area, t, y_area, right_area)?;
    if !with_x_labels {
        x.ticks.clear();
    }
    let slot = slot_px_with_right(&area, y_area, right_area, months.len());
    let x_area = if with_x_labels { t.x_axis_height() } else { 6 };
    let mut chart = ChartBuilder::on(&area)
        .margin_left(t.pad)
        .margin_right(t.pad)
        .margin_top(t.pad)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .right_y_label_area_size(right_area)
        .build_cartesian_2d(x.clone(), 0u64..y_max)
        .map_err(de)?
        .set_secondary_coord(x, 0u64..p_max);
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .y_labels(if caption.is_some() { 4 } else { 8 })
        .label_style((FAMILY, t.label).into_font().color(&TEXT))
        .axis_desc_style((FAMILY, t.desc).into_font().color(&TEXT))
        .y_desc("acts");
    if with_x_labels {
        mesh.x_desc("month");
    }
    mesh.draw().map_err(de)?;
    chart
        .configure_secondary_axes()
        .y_labels(if caption.is_some() { 4 } else { 8 })
        .label_style((FAMILY, t.label).into_font().color(&PASSIVE))
        .axis_desc_style((FAMILY, t.desc).into_font().color(&PASSIVE))
        .axis_style(PASSIVE)
        .y_desc("passive")
        .draw()
        .map_err(de)?;
    let m = bar_margin(slot, 1);
    let mut bars = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let Some(row) = row else { continue };
        let mut y0 = 0;
        let values = [
            row.conversation,
            row.broadcast,
            row.amplification,
            row.self_thread,
        ];
        for (value, (_, color)) in values.into_iter().zip(MIX) {
            if value > 0 {
                bars.push(Rectangle::new(
                    [(i as f64 + m, y0), (i as f64 + 1.0 - m, y0 + value)],
                    color.filled(),
                ));
            }
            y0 += value;
        }
    }
    chart.draw_series(bars).map_err(de)?;
    let passive: Vec<Option<(f64, u64)>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| r.map(|r| (i as f64 + 0.5, r.passive)))
        .collect();
    for segment in passive.split(|p| p.is_none()) {
        let line: Vec<(f64, u64)> = segment.iter().flatten().copied().collect();
        if line.len() > 1 {
            chart
                .draw_secondary_series(LineSeries::new(line, PASSIVE.stroke_width(2)))
                .map_err(de)?;
        }
    }
    let r = (slot * 0.25).clamp(1.5, 4.0) as i32;
    chart
        .draw_secondary_series(
            passive
                .iter()
                .flatten()
                .map(|p| Circle::new(*p, r, PASSIVE.filled())),
        )
        .map_err(de)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Month axis

/// The dated months shown on the x axis, ascending.
struct Months {
    codes: Vec<i32>,
    index: HashMap<i32, usize>,
}

impl Months {
    fn of(summary: &Summary) -> Self {
        let codes: Vec<i32> = summary
            .rows
            .iter()
            .map(|r| r.month_code)
            .filter(|c| *c != UNDATED)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let index = codes.iter().enumerate().map(|(i, c)| (*c, i)).collect();
        Months { codes, index }
    }

    fn len(&self) -> usize {
        self.codes.len()
    }

    fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The rows of one platform aligned to the months (`None` where the platform has no row).
    fn rows<'a>(&self, summary: &'a Summary, platform: &str) -> Vec<Option<&'a MonthlyRow>> {
        let mut out = vec![None; self.codes.len()];
        for row in summary.rows.iter().filter(|r| r.platform == platform) {
            if let Some(i) = self.index.get(&row.month_code) {
                out[*i] = Some(row);
            }
        }
        out
    }

    fn axis(&self, area: &Area<'_>, t: &Theme, y_area: i32) -> Result<SlotAxis, String> {
        self.axis_with_right(area, t, y_area, t.right_margin)
    }

    /// The x axis, labelling as many months as fit in the plot width.
    fn axis_with_right(
        &self,
        area: &Area<'_>,
        t: &Theme,
        left: i32,
        right: i32,
    ) -> Result<SlotAxis, String> {
        let (w, _) = area.dim_in_pixel();
        let plot_w = (w as i32 - left - right - 2 * t.pad).max(1);
        let label_w = area
            .estimate_text_size("2000-00", &(FAMILY, t.label).into_font().into())
            .map_err(de)?
            .0 as i32;
        let fit = (plot_w / (label_w + label_w / 2).max(1)).clamp(1, 24) as usize;
        Ok(SlotAxis {
            ticks: label_ticks(&self.codes, fit),
            labels: self
                .codes
                .iter()
                .map(|c| crate::analysis::month_label(*c))
                .collect(),
        })
    }
}

/// Indices of the months to label: all of them when they fit, else calendar-aligned steps.
fn label_ticks(codes: &[i32], fit: usize) -> Vec<usize> {
    let n = codes.len();
    if n <= fit {
        return (0..n).collect();
    }
    for step in [2, 3, 4, 6, 12, 24, 36, 48, 60, 120, 240, 600, 1200] {
        let ticks: Vec<usize> = (0..n).filter(|&i| codes[i].rem_euclid(step) == 0).collect();
        if !ticks.is_empty() && ticks.len() <= fit {
            return ticks;
        }
    }
    (0..n).step_by(n.div_ceil(fit.max(1))).collect()
}

/// A categorical axis: slot `i` spans `i..i + 1`; `ticks` are the slots that get a label.
#[derive(Clone)]
struct SlotAxis {
    labels: Vec<String>,
    ticks: Vec<usize>,
}

impl Ranged for SlotAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let n = self.labels.len().max(1) as f64;
        let length = f64::from(limit.1 - limit.0);
        limit.0 + (length * value / n + 1e-3).floor() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Only the bold pass gets points: no light grid, labels at slot centres.
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        self.ticks
            .iter()
            .filter(|i| **i < self.labels.len())
            .map(|i| *i as f64 + 0.5)
            .collect()
    }

    fn range(&self) -> Range<f64> {
        0.0..self.labels.len().max(1) as f64
    }
}

impl ValueFormatter<f64> for SlotAxis {
    fn format(value: &f64) -> String {
        format!("{value}")
    }

    fn format_ext(&self, value: &f64) -> String {
        let i = (value - 0.5).round();
        if i < 0.0 {
            return String::new();
        }
        self.labels.get(i as usize).cloned().unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// Shared drawing helpers

/// Font sizes and paddings, scaled with the image but never below 14 px.
struct Theme {
    title: f64,
    subtitle: f64,
    label: f64,
    desc: f64,
    legend: f64,
    small: f64,
    pad: i32,
    right_margin: i32,
}

impl Theme {
    fn new(w: u32, h: u32) -> Self {
        let s = (f64::from(w) / 1400.0)
            .min(f64::from(h) / 800.0)
            .clamp(0.5, 4.0);
        let f = |base: f64| (base * s).max(14.0).round();
        Theme {
            title: f(28.0).max(18.0),
            subtitle: f(17.0),
            label: f(16.0),
            desc: f(18.0),
            legend: f(16.0),
            small: f(14.0),
            pad: (16.0 * s).round().max(8.0) as i32,
            right_margin: (40.0 * s).round().max(24.0) as i32,
        }
    }

    /// Height of the caption strip above a panel.
    fn caption_height(&self) -> i32 {
        (self.label * 1.6) as i32
    }

    /// Height of an x axis with tick labels and a description.
    fn x_axis_height(&self) -> i32 {
        (self.label * 1.6 + self.desc * 1.6) as i32 + 8
    }

    /// Width of a y axis whose widest tick label is `widest`, plus its description.
    fn y_axis_width(&self, area: &Area<'_>, widest: &str) -> Result<i32, String> {
        let w = area
            .estimate_text_size(widest, &(FAMILY, self.label).into_font().into())
            .map_err(de)?
            .0 as i32;
        Ok(w + (self.desc * 1.6) as i32 + 18)
    }
}

/// A legend swatch.
#[derive(Clone, Copy)]
enum Mark {
    Bar(RGBColor),
    Line(RGBColor, u32),
    LinePoint(RGBColor, bool),
    Point(RGBColor, bool),
    Dashed(RGBColor),
}

/// Draws the title, subtitle and legend; returns the area left for the plot.
fn header<'a>(
    root: &Area<'a>,
    t: &Theme,
    title: &str,
    subtitle: Option<&str>,
    legend: &[(Mark, String)],
) -> Result<Area<'a>, String> {
    let y = layout_header(root, t, title, subtitle, legend, true)?;
    let (_, rest) = root.split_vertically(y);
    Ok(rest)
}

/// Lays out (and, when `draw`, draws) the header; returns its height.
fn layout_header(
    root: &Area<'_>,
    t: &Theme,
    title: &str,
    subtitle: Option<&str>,
    legend: &[(Mark, String)],
    draw: bool,
) -> Result<i32, String> {
    let (w, _) = root.dim_in_pixel();
    let w = w as i32;
    let mut y = t.pad;
    if draw {
        let title_style = (FAMILY, t.title, FontStyle::Bold).into_font().color(&TEXT);
        root.draw_text(title, &title_style, (t.pad, y))
            .map_err(de)?;
    }
    y += (t.title * 1.35) as i32;
    if let Some(sub) = subtitle {
        if draw {
            let style = (FAMILY, t.subtitle).into_font().color(&MUTED);
            root.draw_text(sub, &style, (t.pad, y)).map_err(de)?;
        }
        y += (t.subtitle * 1.5) as i32;
    }
    let style = (FAMILY, t.legend)
        .into_font()
        .color(&TEXT)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let row_h = (t.legend * 1.7) as i32;
    let swatch = (t.legend * 2.0) as i32;
    let mut x = t.pad;
    if !legend.is_empty() {
        y += 4;
    }
    for (mark, text) in legend {
        let tw = root.estimate_text_size(text, &style).map_err(de)?.0 as i32;
        let item_w = swatch + 8 + tw + (t.legend * 1.8) as i32;
        if x > t.pad && x + item_w > w - t.pad {
            x = t.pad;
            y += row_h;
        }
        if draw {
            let cy = y + row_h / 2;
            draw_mark(root, *mark, x, cy, swatch, t)?;
            root.draw_text(text, &style, (x + swatch + 8, cy))
                .map_err(de)?;
        }
        x += item_w;
    }
    if !legend.is_empty() {
        y += row_h;
    }
    Ok(y + 4)
}

fn draw_mark(
    root: &Area<'_>,
    mark: Mark,
    x: i32,
    cy: i32,
    w: i32,
    t: &Theme,
) -> Result<(), String> {
    let h = (t.legend * 0.8) as i32;
    let r = (t.legend * 0.35).round() as i32;
    match mark {
        Mark::Bar(c) => root
            .draw(&Rectangle::new(
                [(x, cy - h / 2), (x + w, cy + h / 2)],
                c.filled(),
            ))
            .map_err(de),
        Mark::Line(c, width) => root
            .draw(&PathElement::new(
                vec![(x, cy), (x + w, cy)],
                c.stroke_width(width),
            ))
            .map_err(de),
        Mark::LinePoint(c, filled) => {
            root.draw(&PathElement::new(
                vec![(x, cy), (x + w, cy)],
                c.stroke_width(2),
            ))
            .map_err(de)?;
            marker(root, (x + w / 2, cy), r, c.to_rgba(), filled)
        }
        Mark::Point(c, filled) => marker(root, (x + w / 2, cy), r, c.to_rgba(), filled),
        Mark::Dashed(c) => {
            let dash = (w / 3).max(2);
            let mut x0 = x;
            while x0 < x + w {
                let x1 = (x0 + dash * 2 / 3).min(x + w);
                root.draw(&PathElement::new(
                    vec![(x0, cy), (x1, cy)],
                    c.stroke_width(2),
                ))
                .map_err(de)?;
                x0 += dash;
            }
            Ok(())
        }
    }
}

/// A filled or hollow (white inside) circle in pixel coordinates.
fn marker(
    root: &Area<'_>,
    at: (i32, i32),
    r: i32,
    color: RGBAColor,
    filled: bool,
) -> Result<(), String> {
    if filled {
        root.draw(&Circle::new(at, r, color.filled())).map_err(de)
    } else {
        root.draw(&Circle::new(at, r, WHITE.filled())).map_err(de)?;
        root.draw(&Circle::new(at, r, color.stroke_width(2)))
            .map_err(de)
    }
}

/// A filled or hollow marker in chart coordinates.
fn draw_marker<Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, BitMapBackend<'_>, Cartesian2d<SlotAxis, Y>>,
    at: (f64, f64),
    r: i32,
    color: RGBAColor,
    filled: bool,
) -> Result<(), String> {
    let px = chart.backend_coord(&at);
    let (x0, y0) = chart.plotting_area().get_base_pixel();
    let (w, h) = chart.plotting_area().dim_in_pixel();
    if px.0 < x0 || px.1 < y0 - r || px.0 > x0 + w as i32 || px.1 > y0 + h as i32 + r {
        return Ok(());
    }
    let area = chart.plotting_area().strip_coord_spec();
    marker(&area, (px.0 - x0, px.1 - y0), r, color, filled)
}

/// A centred grey note on a white box over an area.
fn note(area: Area<'_>, t: &Theme, text: &str) -> Result<(), String> {
    let (w, h) = area.dim_in_pixel();
    let style = (FAMILY, t.desc)
        .into_font()
        .color(&MUTED)
        .pos(Pos::new(HPos::Center, VPos::Center));
    let (tw, th) = area.estimate_text_size(text, &style).map_err(de)?;
    let (cx, cy) = (w as i32 / 2, h as i32 / 2);
    let (bw, bh) = (tw as i32 / 2 + t.pad, th as i32 / 2 + t.pad / 2);
    area.draw(&Rectangle::new(
        [(cx - bw, cy - bh), (cx + bw, cy + bh)],
        WHITE.filled(),
    ))
    .map_err(de)?;
    area.draw_text(text, &style, (cx, cy)).map_err(de)
}

/// Axes without data and a "no dated activity" note.
fn empty_chart(area: &Area<'_>, t: &Theme, y_desc: &str) -> Result<(), String> {
    let y_area = t.y_axis_width(area, "1")?;
    let x = SlotAxis {
        labels: Vec::new(),
        ticks: Vec::new(),
    };
    let mut chart = ChartBuilder::on(area)
        .margin_left(t.pad)
        .margin_right(t.right_margin)
        .margin_top(t.pad)
        .x_label_area_size(t.x_axis_height())
        .y_label_area_size(y_area)
        .build_cartesian_2d(x, 0u64..1u64)
        .map_err(de)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .label_style((FAMILY, t.label).into_font().color(&TEXT))
        .axis_desc_style((FAMILY, t.desc).into_font().color(&TEXT))
        .x_desc("month")
        .y_desc(y_desc)
        .draw()
        .map_err(de)?;
    note(
        chart.plotting_area().strip_coord_spec(),
        t,
        "no dated activity",
    )
}

/// Renders onto a white RGB buffer and encodes it as PNG.
fn render<F>(o: &ChartOptions, draw: F) -> Result<Vec<u8>, String>
where
    F: FnOnce(&Area<'_>, &Theme) -> Result<(), String>,
{
    let (w, h) = (o.width, o.height);
    if w < MIN_SIZE.0 || h < MIN_SIZE.1 || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!(
            "chart size {w}x{h} is outside the supported range ({}x{} up to {MAX_PIXELS} pixels)",
            MIN_SIZE.0, MIN_SIZE.1
        ));
    }
    ensure_fonts()?;
    let theme = Theme::new(w, h);
    let mut buf = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(de)?;
        draw(&root, &theme)?;
        root.present().map_err(de)?;
    }
    let image = image::RgbImage::from_raw(w, h, buf).ok_or("chart buffer has the wrong size")?;
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .map_err(de)?;
    Ok(out)
}

/// Registers the embedded DejaVu Sans as "sans-serif", once.
fn ensure_fonts() -> Result<(), String> {
    static FONTS: OnceLock<Result<(), String>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular())
                .map_err(|_| "bad font: DejaVu Sans")?;
            register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold())
                .map_err(|_| "bad font: DejaVu Sans Bold")?;
            Ok(())
        })
        .clone()
}

fn de<E: Display>(e: E) -> String {
    e.to_string()
}

/// Upper end of a count axis: a little above `top`, at least 1.
fn headroom(top: u64) -> u64 {
    top.saturating_add(top / 10).saturating_add(1)
}

/// Width in pixels of one month slot, estimated before the chart is built.
fn slot_px(area: &Area<'_>, y_area: i32, n: usize) -> f64 {
    let right = 40;
    slot_px_with_right(area, y_area, right, n)
}

fn slot_px_with_right(area: &Area<'_>, left: i32, right: i32, n: usize) -> f64 {
    let (w, _) = area.dim_in_pixel();
    f64::from((w as i32 - left - right - 32).max(1)) / n.max(1) as f64
}

/// Gap on each side of the bars in a slot, as a fraction of the slot: bars touch when slots
/// are tiny and are at most ~70 px wide (all `bars` together) when slots are wide.
fn bar_margin(slot: f64, bars: usize) -> f64 {
    if slot < 4.0 {
        return 0.0;
    }
    let max_w = 70.0 * bars as f64;
    (0.5 - max_w / 2.0 / slot).max(0.12)
}

fn num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn signed(d: f64) -> String {
    if d.abs() < 1e-9 {
        "±0".into()
    } else if d > 0.0 {
        format!("+{}", num(d))
    } else {
        format!("-{}", num(-d))
    }
}

fn display_name(platform: &str) -> String {
    match platform {
        "linkedin" => "LinkedIn".into(),
        "x" => "X".into(),
        "mastodon" => "Mastodon".into(),
        "bluesky" => "Bluesky".into(),
        "all" => "all platforms".into(),
        other => other.into(),
    }
}

fn platform_color(platform: &str) -> RGBColor {
    match platform {
        "linkedin" => RGBColor(31, 119, 180),
        "x" => RGBColor(214, 39, 40),
        "mastodon" => RGBColor(148, 103, 189),
        "bluesky" => RGBColor(23, 190, 207),
        _ => RGBColor(140, 86, 75),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Totals;
    use crate::analysis::compare::ComparisonRow;
    use crate::model::Platform;

    fn row(platform: &str, code: i32, seed: u64) -> MonthlyRow {
        let conversation = (seed * 7) % 23;
        let broadcast = (seed * 5) % 17 + 1;
        let amplification = (seed * 3) % 11;
        let acts = conversation + broadcast + amplification;
        MonthlyRow {
            month: crate::analysis::month_label(code),
            platform: platform.into(),
            broadcast,
            self_thread: seed % 4,
            amplification,
            conversation,
            conversation_private: conversation / 2,
            passive: (seed * 13) % 40,
            participation_ratio: (acts > 0).then(|| conversation as f64 / acts as f64),
            people_engaged: conversation / 2 + 1,
            people_reciprocated: conversation / 4,
            received: seed % 9,
            median_response_minutes: Some(30.0 + seed as f64),
            month_code: code,
        }
    }

    fn summary(platforms: &[Platform], months: i32) -> Summary {
        let start = 2023 * 12 + 9;
        let mut rows = Vec::new();
        for (k, p) in platforms.iter().enumerate() {
            for m in 0..months {
                let seed = (m as u64 + 3) * (k as u64 + 2) + k as u64;
                let mut r = row(p.as_str(), start + m, seed);
                if (m + k as i32) % 5 == 3 {
                    // A quiet month: a few acts, or none at all.
                    r.conversation %= 3;
                    r.broadcast = (m as u64 + k as u64) % 2;
                    r.amplification = 0;
                    let acts = r.acts();
                    r.participation_ratio = (acts > 0).then(|| r.conversation as f64 / acts as f64);
                }
                rows.push(r);
            }
        }
        for m in 0..months {
            let code = start + m;
            let parts: Vec<MonthlyRow> = rows
                .iter()
                .filter(|r| r.month_code == code)
                .cloned()
                .collect();
            let mut all = row("all", code, 0);
            all.broadcast = parts.iter().map(|r| r.broadcast).sum();
            all.self_thread = parts.iter().map(|r| r.self_thread).sum();
            all.amplification = parts.iter().map(|r| r.amplification).sum();
            all.conversation = parts.iter().map(|r| r.conversation).sum();
            all.passive = parts.iter().map(|r| r.passive).sum();
            all.people_engaged = parts.iter().map(|r| r.people_engaged).sum();
            all.people_reciprocated = parts.iter().map(|r| r.people_reciprocated).sum();
            let acts = all.acts();
            all.participation_ratio = (acts > 0).then(|| all.conversation as f64 / acts as f64);
            rows.push(all);
        }
        let mut undated = row("all", UNDATED, 5);
        undated.month = "undated".into();
        rows.push(undated);
        Summary {
            rows,
            platforms: platforms.to_vec(),
            totals: Totals::default(),
        }
    }

    fn options() -> ChartOptions {
        ChartOptions {
            width: 1400,
            height: 800,
            low_volume_acts: 10,
        }
    }

    fn check(name: &str, bytes: Result<Vec<u8>, String>, o: &ChartOptions) {
        let bytes = match bytes {
            Ok(b) => b,
            Err(e) => panic!("{name}: {e}"),
        };
        assert!(bytes.starts_with(b"\x89PNG"), "{name}: not a PNG");
        let img = match image::load_from_memory(&bytes) {
            Ok(i) => i,
            Err(e) => panic!("{name}: {e}"),
        };
        assert_eq!((img.width(), img.height()), (o.width, o.height), "{name}");
        let dir = std::env::temp_dir().join("rapport-charts");
        if std::fs::create_dir_all(&dir).is_ok() {
            let _ = std::fs::write(dir.join(format!("{name}.png")), &bytes);
        }
    }

    fn all_four(name: &str, s: &Summary, o: &ChartOptions) {
        check(&format!("{name}-activity"), activity_mix(s, o), o);
        check(&format!("{name}-ratio"), participation_ratio(s, o), o);
        check(&format!("{name}-people"), people(s, o), o);
    }

    fn comparison_of(s: &Summary, a: i32, b: i32) -> Comparison {
        let find = |p: &str, m: i32| s.rows.iter().find(|r| r.platform == p && r.month_code == m);
        let mut rows = Vec::new();
        let mut platforms: Vec<String> = s.platforms.iter().map(|p| p.as_str().into()).collect();
        platforms.push("all".into());
        for p in &platforms {
            for name in METRICS {
                let va = find(p, a).and_then(|r| crate::analysis::compare::metric(r, name));
                let vb = find(p, b).and_then(|r| crate::analysis::compare::metric(r, name));
                rows.push(ComparisonRow {
                    platform: p.clone(),
                    metric: name.into(),
                    a: va,
                    b: vb,
                    delta: va.zip(vb).map(|(x, y)| x - y),
                });
            }
        }
        Comparison {
            month_a: crate::analysis::month_label(a),
            month_b: crate::analysis::month_label(b),
            rows,
        }
    }

    #[test]
    fn multi_platform_charts() {
        let s = summary(&[Platform::LinkedIn, Platform::X, Platform::Mastodon], 8);
        all_four("multi", &s, &options());
        let start = 2023 * 12 + 9;
        let c = comparison_of(&s, start + 7, start + 6);
        check("multi-comparison", comparison(&c, &options()), &options());
    }

    #[test]
    fn single_platform_and_single_month() {
        let s = summary(&[Platform::Bluesky], 5);
        all_four("single", &s, &options());
        let one = summary(&[Platform::X], 1);
        all_four("one-month", &one, &options());
    }

    #[test]
    fn empty_and_zero() {
        let empty = Summary {
            rows: Vec::new(),
            platforms: Vec::new(),
            totals: Totals::default(),
        };
        all_four("empty", &empty, &options());
        let c = Comparison {
            month_a: "2024-03".into(),
            month_b: "2024-02".into(),
            rows: Vec::new(),
        };
        check("empty-comparison", comparison(&c, &options()), &options());

        let mut zero = summary(&[Platform::LinkedIn], 3);
        for r in &mut zero.rows {
            r.broadcast = 0;
            r.self_thread = 0;
            r.amplification = 0;
            r.conversation = 0;
            r.conversation_private = 0;
            r.passive = 0;
            r.participation_ratio = None;
            r.people_engaged = 0;
            r.people_reciprocated = 0;
            r.received = 0;
            r.median_response_minutes = None;
        }
        all_four("zero", &zero, &options());
        let start = 2023 * 12 + 9;
        let c = comparison_of(&zero, start + 1, start);
        check("zero-comparison", comparison(&c, &options()), &options());
    }

    #[test]
    fn many_months_and_other_sizes() {
        let s = summary(
            &[
                Platform::LinkedIn,
                Platform::X,
                Platform::Mastodon,
                Platform::Bluesky,
            ],
            230,
        );
        all_four("many", &s, &options());
        let small = ChartOptions {
            width: 640,
            height: 400,
            low_volume_acts: 0,
        };
        let s = summary(&[Platform::LinkedIn, Platform::X], 40);
        check("small-activity", activity_mix(&s, &small), &small);
        check("small-ratio", participation_ratio(&s, &small), &small);
        check("small-people", people(&s, &small), &small);
        let minimal = ChartOptions {
            width: 400,
            height: 300,
            low_volume_acts: 5,
        };
        let s4 = summary(
            &[
                Platform::LinkedIn,
                Platform::X,
                Platform::Mastodon,
                Platform::Bluesky,
            ],
            30,
        );
        all_four("minimal", &s4, &minimal);
        let c = comparison_of(&s4, 2023 * 12 + 10, 2023 * 12 + 9);
        check("minimal-comparison", comparison(&c, &minimal), &minimal);
        let tiny = ChartOptions {
            width: 10,
            height: 10,
            low_volume_acts: 0,
        };
        assert!(people(&s, &tiny).is_err());
    }

    #[test]
    fn month_labels_fit() {
        let codes: Vec<i32> = (2000 * 12..2000 * 12 + 230).collect();
        let ticks = label_ticks(&codes, 16);
        assert!(ticks.len() <= 16 && !ticks.is_empty());
        assert!(ticks.iter().all(|i| codes[*i] % 12 == 0));
        assert_eq!(label_ticks(&codes[..5], 16), vec![0, 1, 2, 3, 4]);
    }
}
