//! `unanswered.png`: private conversations left waiting for the owner's answer, by the month of
//! their last (received) message; stacked by platform when there are several. Draws its `Data`
//! only.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ChartOptions;
use super::axis::{Months, count_chart, empty_chart};
use super::frame::*;
use crate::analysis::Summary;

/// One stack layer: a platform, or all platforms when there is one.
pub struct Layer {
    /// Legend name.
    pub name: String,
    /// Bar colour.
    pub color: RGBColor,
    /// Conversations waiting, per month (0 where the platform has no row).
    pub values: Vec<u64>,
}

/// What the chart draws, aligned to `months`.
pub struct Data {
    /// The months on the x axis.
    pub months: Months,
    /// Stack layers, bottom first.
    pub layers: Vec<Layer>,
}

impl Data {
    /// The numbers of a summary.
    pub fn of(summary: &Summary) -> Data {
        let months = Months::of(summary);
        let values = |key: &str| -> Vec<u64> {
            months
                .rows(summary, key)
                .iter()
                .map(|r| r.map_or(0, |r| r.unanswered))
                .collect()
        };
        let layers = if summary.platforms.len() > 1 {
            summary
                .platforms
                .iter()
                .map(|p| Layer {
                    name: display_name(p.as_str()),
                    color: platform_color(p.as_str()),
                    values: values(p.as_str()),
                })
                .collect()
        } else {
            vec![Layer {
                name: "conversations waiting for your answer".into(),
                color: RECIPROCATED,
                values: values("all"),
            }]
        };
        Data { months, layers }
    }
}

/// The chart.
pub fn draw(data: &Data, o: &ChartOptions) -> Result<Vec<u8>, String> {
    let months = &data.months;
    let totals: Vec<u64> = (0..months.len())
        .map(|i| data.layers.iter().map(|l| l.values[i]).sum())
        .collect();
    let total: u64 = totals.iter().sum();
    render(o, |root, t| {
        let legend: Vec<(Mark, String)> = data
            .layers
            .iter()
            .map(|l| (Mark::Bar(l.color), l.name.clone()))
            .collect();
        let subtitle = format!(
            "Someone wrote to you last and got no answer: {total} conversation{} in all, each in the month of its last message.",
            if total == 1 { "" } else { "s" }
        );
        let area = header(
            root,
            t,
            "Conversations waiting for your answer",
            Some(&subtitle),
            &legend,
        )?;
        if months.is_empty() {
            return empty_chart(&area, t, "conversations");
        }
        let y_max = headroom(totals.iter().copied().max().unwrap_or(0));
        let y_area = t.y_axis_width(&area, &y_max.to_string())?;
        let x = months.axis(&area, t, y_area)?;
        let slot = slot_px(&area, y_area, months.len());
        let mut chart = count_chart(
            &area,
            t,
            x,
            y_area,
            y_max,
            Some(8),
            "month of the last message",
            "conversations",
        )?;
        let m = bar_margin(slot, 1);
        let mut bars = Vec::new();
        for i in 0..months.len() {
            let mut y0 = 0;
            for l in &data.layers {
                let v = l.values[i];
                if v > 0 {
                    bars.push(Rectangle::new(
                        [(i as f64 + m, y0), (i as f64 + 1.0 - m, y0 + v)],
                        l.color.filled(),
                    ));
                }
                y0 += v;
            }
        }
        chart.draw_series(bars).map_err(de)?;
        let labels = slot * (1.0 - 2.0 * m) >= t.small * 2.2;
        if labels {
            let style = (FAMILY, t.small)
                .into_font()
                .color(&MUTED)
                .pos(Pos::new(HPos::Center, VPos::Bottom));
            for (i, v) in totals.iter().enumerate().filter(|(_, v)| **v > 0) {
                let (px, py) = chart.backend_coord(&(i as f64 + 0.5, *v));
                root.draw_text(&v.to_string(), &style, (px, py - 3))
                    .map_err(de)?;
            }
        }
        if total == 0 {
            note(
                chart.plotting_area().strip_coord_spec(),
                t,
                "nobody is waiting for an answer",
            )?;
        }
        Ok(())
    })
}
