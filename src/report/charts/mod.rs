//! PNG charts drawn with plotters (bitmap backend, embedded DejaVu font), one file per chart,
//! each fed the numbers it draws (its `Data`, built from a `Summary` or a `Comparison`), plus
//! the shared frame (`frame`) and month axis (`axis`). Each renderer returns PNG bytes;
//! `report::write_all` writes the files. Must not touch Polars, files or the network.
//!
//! Layout shared by every chart: a bold title, an optional subtitle, a legend strip drawn above
//! the plot (so it never hides data), then the plot itself. Months sit on a categorical x axis
//! (one slot per dated month, the `undated` row is left out). The unit tests also write every
//! chart they render to `<temp dir>/rapport-charts/*.png` for eyeballing.

mod axis;
pub mod compare;
mod frame;
pub mod mix;
pub mod people;
pub mod ratio;
pub mod unanswered;

#[cfg(test)]
mod tests;

use crate::analysis::Summary;
use crate::analysis::compare::Comparison;

/// Chart size and thresholds.
#[derive(Debug, Clone, Copy)]
pub struct ChartOptions {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Months whose ratio rests on fewer acts than this are drawn faint on the ratio chart.
    pub low_volume_acts: u64,
}

/// Stacked bars per month by mode (`activity_mix.png`).
pub fn activity_mix(summary: &Summary, o: &ChartOptions) -> Result<Vec<u8>, String> {
    mix::draw(&mix::Data::of(summary), o)
}

/// The participation ratio with its rolling line and interval (`participation_ratio.png`).
pub fn participation_ratio(summary: &Summary, o: &ChartOptions) -> Result<Vec<u8>, String> {
    ratio::draw(&ratio::Data::of(summary, o.low_volume_acts), o)
}

/// People engaged, new and reciprocated per month (`people.png`).
pub fn people(summary: &Summary, o: &ChartOptions) -> Result<Vec<u8>, String> {
    people::draw(&people::Data::of(summary), o)
}

/// Conversations left waiting, by the month of their last message (`unanswered.png`).
pub fn unanswered(summary: &Summary, o: &ChartOptions) -> Result<Vec<u8>, String> {
    unanswered::draw(&unanswered::Data::of(summary), o)
}

/// Period A against period B (`compare_<A>_vs_<B>.png`).
pub fn comparison(c: &Comparison, o: &ChartOptions) -> Result<Vec<u8>, String> {
    compare::draw(&compare::Data::of(c), o)
}
