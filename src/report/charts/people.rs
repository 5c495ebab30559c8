//! `people.png`: per month, the people engaged (bar), the new ones among them (its dark part)
//! and those who reciprocated (line), all platforms together. Draws its `Data` only.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ChartOptions;
use super::axis::{Months, count_chart, empty_chart};
use super::frame::*;
use crate::analysis::Summary;

/// What the chart draws for all platforms together, aligned to `months`.
pub struct Data {
    /// The months on the x axis.
    pub months: Months,
    /// Distinct people engaged.
    pub engaged: Vec<Option<u64>>,
    /// Of them, engaged for the first time.
    pub new: Vec<Option<u64>>,
    /// Of them, who also wrote to the owner that month.
    pub reciprocated: Vec<Option<u64>>,
}

impl Data {
    /// The numbers of a summary.
    pub fn of(summary: &Summary) -> Data {
        let months = Months::of(summary);
        let rows = months.rows(summary, "all");
        Data {
            engaged: rows.iter().map(|r| r.map(|r| r.people_engaged)).collect(),
            new: rows.iter().map(|r| r.map(|r| r.people_new)).collect(),
            reciprocated: rows
                .iter()
                .map(|r| r.map(|r| r.people_reciprocated))
                .collect(),
            months,
        }
    }
}

const ENGAGED_LIGHT: RGBColor = RGBColor(150, 210, 210);

/// The chart.
pub fn draw(data: &Data, o: &ChartOptions) -> Result<Vec<u8>, String> {
    let months = &data.months;
    render(o, |root, t| {
        let legend = [
            (
                Mark::Bar(ENGAGED_LIGHT),
                "people engaged (you conversed with them)".to_string(),
            ),
            (
                Mark::Bar(ENGAGED),
                "of them new (your first conversation with them)".to_string(),
            ),
            (
                Mark::LinePoint(RECIPROCATED, true),
                "reciprocated (they also wrote to you that month)".to_string(),
            ),
        ];
        let area = header(
            root,
            t,
            "People you talked with: engaged, new and reciprocated",
            Some("All platforms together; distinct people per month."),
            &legend,
        )?;
        if months.is_empty() {
            return empty_chart(&area, t, "people");
        }
        let top = data
            .engaged
            .iter()
            .chain(&data.reciprocated)
            .flatten()
            .copied()
            .max()
            .unwrap_or(0);
        let y_max = headroom(top);
        let y_area = t.y_axis_width(&area, &y_max.to_string())?;
        let x = months.axis(&area, t, y_area)?;
        let slot = slot_px(&area, y_area, months.len());
        let mut chart = count_chart(&area, t, x, y_area, y_max, Some(8), "month", "people")?;
        // One bar per month: all people engaged, the new ones as its dark lower part (they
        // are a subset); the reciprocated ones as a line, so the three read at any width.
        let m = bar_margin(slot, 1);
        let label_style = (FAMILY, t.small)
            .into_font()
            .color(&MUTED)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        let labels = slot * (1.0 - 2.0 * m) >= t.small * 2.2;
        let mut bars = Vec::new();
        for (i, (engaged, new)) in data.engaged.iter().zip(&data.new).enumerate() {
            let (Some(engaged), Some(new)) = (engaged, new) else {
                continue;
            };
            let (left, right) = (i as f64 + m, i as f64 + 1.0 - m);
            if *engaged > 0 {
                bars.push(Rectangle::new(
                    [(left, 0), (right, *engaged)],
                    ENGAGED_LIGHT.filled(),
                ));
            }
            if *new > 0 {
                bars.push(Rectangle::new(
                    [(left, 0), (right, (*new).min(*engaged))],
                    ENGAGED.filled(),
                ));
            }
            if labels && *engaged > 0 {
                let (px, py) = chart.backend_coord(&(i as f64 + 0.5, *engaged));
                root.draw_text(&engaged.to_string(), &label_style, (px, py - 3))
                    .map_err(de)?;
            }
        }
        chart.draw_series(bars).map_err(de)?;
        let points: Vec<Option<(f64, u64)>> = data
            .reciprocated
            .iter()
            .enumerate()
            .map(|(i, v)| v.map(|v| (i as f64 + 0.5, v)))
            .collect();
        for segment in points.split(|p| p.is_none()) {
            let line: Vec<(f64, u64)> = segment.iter().flatten().copied().collect();
            if line.len() > 1 {
                chart
                    .draw_series(LineSeries::new(line, RECIPROCATED.stroke_width(3)))
                    .map_err(de)?;
            }
        }
        let r = (slot * 0.25).clamp(2.0, 5.0) as i32;
        chart
            .draw_series(
                points
                    .iter()
                    .flatten()
                    .map(|p| Circle::new(*p, r, RECIPROCATED.filled())),
            )
            .map_err(de)?;
        Ok(())
    })
}
