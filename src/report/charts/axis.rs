//! The month axis: one categorical slot per dated month (the `undated` row left out), labels
//! thinned to calendar-aligned steps (2, 3, 4, 6, 12, 24… months) when they would not fit.
//! Must not draw data or touch `Summary` beyond reading which months exist.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordu64;
use plotters::style::IntoFont as _;

use plotters::prelude::*;

use super::frame::{Area, FAMILY, GRID, TEXT, Theme, de, note};
use crate::analysis::{MonthlyRow, Summary, UNDATED};

/// The dated months shown on the x axis, ascending.
pub struct Months {
    /// Month codes, ascending.
    pub codes: Vec<i32>,
    index: HashMap<i32, usize>,
}

impl Months {
    pub(super) fn of(summary: &Summary) -> Self {
        Months::from_codes(
            summary
                .rows
                .iter()
                .map(|r| r.month_code)
                .filter(|c| *c != UNDATED)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
        )
    }

    /// The months of ascending, distinct codes.
    pub fn from_codes(codes: Vec<i32>) -> Self {
        let index = codes.iter().enumerate().map(|(i, c)| (*c, i)).collect();
        Months { codes, index }
    }

    pub(super) fn len(&self) -> usize {
        self.codes.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The rows of one platform aligned to the months (`None` where the platform has no row).
    pub(super) fn rows<'a>(
        &self,
        summary: &'a Summary,
        platform: &str,
    ) -> Vec<Option<&'a MonthlyRow>> {
        let mut out = vec![None; self.codes.len()];
        for row in summary.rows.iter().filter(|r| r.platform == platform) {
            if let Some(i) = self.index.get(&row.month_code) {
                out[*i] = Some(row);
            }
        }
        out
    }

    pub(super) fn axis(&self, area: &Area<'_>, t: &Theme, y_area: i32) -> Result<SlotAxis, String> {
        self.axis_with_right(area, t, y_area, t.right_margin)
    }

    /// The x axis, labelling as many months as fit in the plot width.
    pub(super) fn axis_with_right(
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
pub(super) fn label_ticks(codes: &[i32], fit: usize) -> Vec<usize> {
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
pub(super) struct SlotAxis {
    pub(super) labels: Vec<String>,
    pub(super) ticks: Vec<usize>,
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

/// The frame of a count chart: the month slots `x` on the x axis, counts `0..y_max` on the y
/// axis (`y_labels` of them labelled, else plotters' default), the grid and both axis titles
/// drawn. The bar charts (people, unanswered) and the empty chart share it.
#[allow(clippy::too_many_arguments)]
pub(super) fn count_chart<'a, 'b>(
    area: &'a Area<'b>,
    t: &Theme,
    x: SlotAxis,
    y_area: i32,
    y_max: u64,
    y_labels: Option<usize>,
    x_desc: &str,
    y_desc: &str,
) -> Result<ChartContext<'a, BitMapBackend<'b>, Cartesian2d<SlotAxis, RangedCoordu64>>, String> {
    let mut chart = ChartBuilder::on(area)
        .margin_left(t.pad)
        .margin_right(t.right_margin)
        .margin_top(t.pad)
        .x_label_area_size(t.x_axis_height())
        .y_label_area_size(y_area)
        .build_cartesian_2d(x, 0u64..y_max)
        .map_err(de)?;
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .label_style((FAMILY, t.label).into_font().color(&TEXT))
        .axis_desc_style((FAMILY, t.desc).into_font().color(&TEXT))
        .x_desc(x_desc)
        .y_desc(y_desc);
    if let Some(n) = y_labels {
        mesh.y_labels(n);
    }
    mesh.draw().map_err(de)?;
    Ok(chart)
}

/// Axes without data and a "no dated activity" note.
pub(super) fn empty_chart(area: &Area<'_>, t: &Theme, y_desc: &str) -> Result<(), String> {
    let y_area = t.y_axis_width(area, "1")?;
    let x = SlotAxis {
        labels: Vec::new(),
        ticks: Vec::new(),
    };
    let chart = count_chart(area, t, x, y_area, 1, None, "month", y_desc)?;
    note(
        chart.plotting_area().strip_coord_spec(),
        t,
        "no dated activity",
    )
}
