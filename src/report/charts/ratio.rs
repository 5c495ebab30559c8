//! `participation_ratio.png`: the monthly participation ratio of all platforms as points inside
//! its 95 % interval band, the 3-month rolling ratio as the main line, per-platform lines when
//! there are several, the 50 % reference; months resting on few acts drawn faint. Draws its
//! `Data` only.

use plotters::prelude::*;

use super::ChartOptions;
use super::axis::{Months, empty_chart};
use super::frame::*;
use crate::analysis::Summary;

/// A thin per-platform line.
pub struct Line {
    /// Legend name.
    pub name: String,
    /// Line colour.
    pub color: RGBColor,
    /// Monthly ratio (0..1) aligned to the months.
    pub values: Vec<Option<f64>>,
}

/// What the chart draws, aligned to `months`; ratios are 0..1.
pub struct Data {
    /// The months on the x axis.
    pub months: Months,
    /// Monthly ratio of all platforms.
    pub monthly: Vec<Option<f64>>,
    /// Its 95 % interval.
    pub band: Vec<Option<(f64, f64)>>,
    /// The 3-month rolling ratio of all platforms.
    pub rolling: Vec<Option<f64>>,
    /// Months resting on fewer than `low_volume_acts` acts.
    pub faint: Vec<bool>,
    /// The low-volume threshold (0: none).
    pub low_volume_acts: u64,
    /// One line per platform, when there are several.
    pub platforms: Vec<Line>,
}

impl Data {
    /// The numbers of a summary.
    pub fn of(summary: &Summary, low_volume_acts: u64) -> Data {
        let months = Months::of(summary);
        let all = months.rows(summary, "all");
        let platforms = if summary.platforms.len() > 1 {
            summary
                .platforms
                .iter()
                .map(|p| Line {
                    name: display_name(p.as_str()),
                    color: platform_color(p.as_str()),
                    values: months
                        .rows(summary, p.as_str())
                        .iter()
                        .map(|r| r.and_then(|r| r.participation_ratio))
                        .collect(),
                })
                .collect()
        } else {
            Vec::new()
        };
        Data {
            monthly: all
                .iter()
                .map(|r| r.and_then(|r| r.participation_ratio))
                .collect(),
            band: all
                .iter()
                .map(|r| r.and_then(|r| r.ratio_low.zip(r.ratio_high)))
                .collect(),
            rolling: all
                .iter()
                .map(|r| r.and_then(|r| r.rolling_ratio))
                .collect(),
            faint: all
                .iter()
                .map(|r| r.is_some_and(|r| r.acts() < low_volume_acts))
                .collect(),
            low_volume_acts,
            platforms,
            months,
        }
    }
}

const BAND: RGBColor = RGBColor(46, 160, 67);
const ROLLING: RGBColor = RGBColor(20, 90, 40);

/// The chart.
pub fn draw(data: &Data, o: &ChartOptions) -> Result<Vec<u8>, String> {
    let months = &data.months;
    let low = data.low_volume_acts;
    render(o, |root, t| {
        let mut legend = vec![
            (
                Mark::Line(ROLLING, 4),
                "3-month rolling ratio (all platforms)".to_string(),
            ),
            (Mark::Point(ALL_LINE, true), "monthly ratio".to_string()),
            (
                Mark::Bar(RGBColor(190, 226, 196)),
                "95 % interval of the monthly ratio".to_string(),
            ),
        ];
        if low > 0 {
            legend.push((
                Mark::Point(RGBColor(190, 190, 190), true),
                format!("month with fewer than {low} acts (faint)"),
            ));
        }
        for l in &data.platforms {
            legend.push((Mark::Line(l.color, 2), l.name.clone()));
        }
        legend.push((
            Mark::Dashed(REFERENCE),
            "50 %: as much conversation as broadcast".into(),
        ));
        let area = header(
            root,
            t,
            "Participation ratio: conversation / (conversation + broadcast + amplification)",
            Some(
                "Share of your acts that were conversation. A wide band: too few acts that month to be sure.",
            ),
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
        let at = |i: usize| i as f64 + 0.5;
        // The band: a quad between each pair of neighbouring months, fainter where either
        // month rests on few acts; a lone month gets a vertical bar.
        let n = data.band.len();
        for i in 0..n {
            let Some((lo, hi)) = data.band[i] else {
                continue;
            };
            let alpha = |k: usize| -> f64 { if data.faint[k] { 0.10 } else { 0.28 } };
            let next = (i + 1 < n).then(|| data.band[i + 1]).flatten();
            if let Some((lo2, hi2)) = next {
                let a = alpha(i).min(alpha(i + 1));
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        vec![
                            (at(i), lo * 100.0),
                            (at(i + 1), lo2 * 100.0),
                            (at(i + 1), hi2 * 100.0),
                            (at(i), hi * 100.0),
                        ],
                        BAND.mix(a).filled(),
                    )))
                    .map_err(de)?;
            }
            let prev = i > 0 && data.band[i - 1].is_some();
            if !prev && next.is_none() {
                let half = 0.18;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(at(i) - half, lo * 100.0), (at(i) + half, hi * 100.0)],
                        BAND.mix(alpha(i)).filled(),
                    )))
                    .map_err(de)?;
            }
        }
        let len = months.len() as f64;
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, 50.0), (len, 50.0)],
                12,
                8,
                REFERENCE.stroke_width(2),
            ))
            .map_err(de)?;
        let crowded = slot < 10.0;
        // Platforms stay in the background: the band and the rolling line carry the story.
        for l in &data.platforms {
            let (alpha, width) = if crowded { (0.3, 1) } else { (0.6, 2) };
            polyline(&mut chart, &l.values, l.color.mix(alpha), width)?;
        }
        polyline(
            &mut chart,
            &data.rolling,
            ROLLING.to_rgba(),
            if crowded { 3 } else { 4 },
        )?;
        let r = (slot * 0.3).clamp(2.0, 5.0) as i32;
        for (i, v) in data.monthly.iter().enumerate() {
            let Some(v) = v else { continue };
            let color = if data.faint[i] {
                RGBColor(150, 150, 150).mix(0.6)
            } else {
                ALL_LINE.to_rgba()
            };
            draw_marker(&mut chart, (at(i), v * 100.0), r, color, !data.faint[i])?;
        }
        if data.monthly.iter().all(Option::is_none) {
            note(
                chart.plotting_area().strip_coord_spec(),
                t,
                "no month with conversation, broadcast or amplification",
            )?;
        }
        Ok(())
    })
}

/// A line through the defined values, broken where a month has none.
fn polyline<Y: plotters::coord::ranged1d::Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, BitMapBackend<'_>, Cartesian2d<super::axis::SlotAxis, Y>>,
    values: &[Option<f64>],
    color: RGBAColor,
    width: u32,
) -> Result<(), String> {
    let points: Vec<Option<(f64, f64)>> = values
        .iter()
        .enumerate()
        .map(|(i, v)| v.map(|v| (i as f64 + 0.5, v * 100.0)))
        .collect();
    for segment in points.split(|p| p.is_none()) {
        let line: Vec<(f64, f64)> = segment.iter().flatten().copied().collect();
        if line.len() > 1 {
            chart
                .draw_series(LineSeries::new(line, color.stroke_width(width)))
                .map_err(de)?;
        }
    }
    Ok(())
}
