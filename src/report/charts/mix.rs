//! `activity_mix.png`: stacked bars per month by mode, passive acts on the right axis; `all`
//! on top and, with several platforms, one panel per platform. Draws its `Data` only.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ChartOptions;
use super::axis::{Months, empty_chart};
use super::frame::*;
use crate::analysis::Summary;

/// Stacking order of the activity-mix bars, bottom first.
const MIX: [(&str, RGBColor); 4] = [
    ("conversation", CONVERSATION),
    ("broadcast", BROADCAST),
    ("amplification", AMPLIFICATION),
    ("self_thread (not in ratio)", SELF_THREAD),
];

/// One panel: a platform (or all), aligned to the months.
pub struct Panel {
    /// Caption above the panel.
    pub name: String,
    /// conversation, broadcast, amplification, self_thread per month; `None` without a row.
    pub bars: Vec<Option<[u64; 4]>>,
    /// Passive acts per month.
    pub passive: Vec<Option<u64>>,
}

/// What the chart draws: `all` first, then one panel per platform when there are several.
pub struct Data {
    /// The months on the x axis.
    pub months: Months,
    /// The panels, top to bottom.
    pub panels: Vec<Panel>,
}

impl Data {
    /// The numbers of a summary.
    pub fn of(summary: &Summary) -> Data {
        let months = Months::of(summary);
        let mut keys = vec!["all".to_string()];
        if summary.platforms.len() > 1 {
            keys.extend(summary.platforms.iter().map(|p| p.as_str().to_string()));
        }
        let panels = keys
            .iter()
            .map(|key| {
                let rows = months.rows(summary, key);
                Panel {
                    name: display_name(key),
                    bars: rows
                        .iter()
                        .map(|r| {
                            r.map(|r| [r.conversation, r.broadcast, r.amplification, r.self_thread])
                        })
                        .collect(),
                    passive: rows.iter().map(|r| r.map(|r| r.passive)).collect(),
                }
            })
            .collect();
        Data { months, panels }
    }
}

/// Stacked bars per month by mode, passive acts as a line on the right axis.
pub fn draw(data: &Data, o: &ChartOptions) -> Result<Vec<u8>, String> {
    let months = &data.months;
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
        let mut panels: Vec<&Panel> = data.panels.iter().collect();
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
        for panel in &panels {
            let (y_max, p_max) = mix_maxima(panel);
            y_area = y_area.max(t.y_axis_width(&area, &y_max.to_string())?);
            right_area = right_area.max(t.y_axis_width(&area, &p_max.to_string())?);
        }
        for (k, (area, panel)) in areas.iter().zip(&panels).enumerate() {
            let layout = PanelLayout {
                caption: (panels.len() > 1).then_some(panel.name.as_str()),
                with_x_labels: k + 1 == panels.len(),
                y_area,
                right_area,
            };
            mix_panel(area, t, months, panel, &layout)?;
        }
        Ok(())
    })
}

/// Where a panel of the activity mix sits and what it shows around the plot.
struct PanelLayout<'a> {
    caption: Option<&'a str>,
    with_x_labels: bool,
    y_area: i32,
    right_area: i32,
}

/// Highest stacked bar and highest passive count, each with headroom.
fn mix_maxima(panel: &Panel) -> (u64, u64) {
    let stack = |b: &[u64; 4]| b.iter().sum::<u64>();
    let y_max = headroom(panel.bars.iter().flatten().map(stack).max().unwrap_or(0));
    let p_max = headroom(panel.passive.iter().flatten().copied().max().unwrap_or(0));
    (y_max, p_max)
}

fn mix_panel(
    area: &Area<'_>,
    t: &Theme,
    months: &Months,
    panel: &Panel,
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
    let (y_max, p_max) = mix_maxima(panel);
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
    for (i, values) in panel.bars.iter().enumerate() {
        let Some(values) = values else { continue };
        let mut y0 = 0;
        for (&value, (_, color)) in values.iter().zip(MIX) {
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
    let passive: Vec<Option<(f64, u64)>> = panel
        .passive
        .iter()
        .enumerate()
        .map(|(i, p)| p.map(|p| (i as f64 + 0.5, p)))
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
