//! The frame every chart shares: canvas and PNG encoding, the embedded font, sizes (`Theme`),
//! colours, the title/subtitle/legend strip, markers, notes and the empty chart. Knows nothing
//! about metrics; must not touch `Summary`, files or the network.

use std::fmt::Display;
use std::io::Cursor;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::Ranged;
use plotters::prelude::*;
use plotters::style::register_font;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ChartOptions;

pub(super) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

pub(super) const FAMILY: &str = "sans-serif";
pub(super) const MIN_SIZE: (u32, u32) = (320, 240);
/// About 150 MB of RGB buffer.
pub(super) const MAX_PIXELS: u64 = 50_000_000;

pub(super) const CONVERSATION: RGBColor = RGBColor(46, 160, 67);
pub(super) const BROADCAST: RGBColor = RGBColor(52, 114, 196);
pub(super) const AMPLIFICATION: RGBColor = RGBColor(243, 146, 30);
pub(super) const SELF_THREAD: RGBColor = RGBColor(150, 168, 192);
pub(super) const PASSIVE: RGBColor = RGBColor(128, 50, 168);
pub(super) const ENGAGED: RGBColor = RGBColor(0, 128, 128);
pub(super) const RECIPROCATED: RGBColor = RGBColor(230, 110, 40);
pub(super) const MONTH_A: RGBColor = RGBColor(52, 114, 196);
pub(super) const MONTH_B: RGBColor = RGBColor(170, 180, 195);
pub(super) const ALL_LINE: RGBColor = RGBColor(30, 30, 30);
pub(super) const REFERENCE: RGBColor = RGBColor(200, 40, 40);
pub(super) const GRID: RGBColor = RGBColor(225, 225, 225);
pub(super) const TEXT: RGBColor = RGBColor(20, 20, 20);
pub(super) const MUTED: RGBColor = RGBColor(90, 90, 90);
/// Font sizes and paddings, scaled with the image but never below 14 px.
pub(super) struct Theme {
    pub(super) title: f64,
    pub(super) subtitle: f64,
    pub(super) label: f64,
    pub(super) desc: f64,
    pub(super) legend: f64,
    pub(super) small: f64,
    pub(super) pad: i32,
    pub(super) right_margin: i32,
}

impl Theme {
    pub(super) fn new(w: u32, h: u32) -> Self {
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
    pub(super) fn caption_height(&self) -> i32 {
        (self.label * 1.6) as i32
    }

    /// Height of an x axis with tick labels and a description.
    pub(super) fn x_axis_height(&self) -> i32 {
        (self.label * 1.6 + self.desc * 1.6) as i32 + 8
    }

    /// Width of a y axis whose widest tick label is `widest`, plus its description.
    pub(super) fn y_axis_width(&self, area: &Area<'_>, widest: &str) -> Result<i32, String> {
        let w = area
            .estimate_text_size(widest, &(FAMILY, self.label).into_font().into())
            .map_err(de)?
            .0 as i32;
        Ok(w + (self.desc * 1.6) as i32 + 18)
    }
}

/// A legend swatch.
#[derive(Clone, Copy)]
pub(super) enum Mark {
    Bar(RGBColor),
    Line(RGBColor, u32),
    LinePoint(RGBColor, bool),
    Point(RGBColor, bool),
    Dashed(RGBColor),
}

/// Draws the title, subtitle and legend; returns the area left for the plot.
pub(super) fn header<'a>(
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
pub(super) fn layout_header(
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

pub(super) fn draw_mark(
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
pub(super) fn marker(
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
pub(super) fn draw_marker<X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, BitMapBackend<'_>, Cartesian2d<X, Y>>,
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
pub(super) fn note(area: Area<'_>, t: &Theme, text: &str) -> Result<(), String> {
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

/// Renders onto a white RGB buffer and encodes it as PNG.
pub(super) fn render<F>(o: &ChartOptions, draw: F) -> Result<Vec<u8>, String>
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
pub(super) fn ensure_fonts() -> Result<(), String> {
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

pub(super) fn de<E: Display>(e: E) -> String {
    e.to_string()
}

/// Upper end of a count axis: a little above `top`, at least 1.
pub(super) fn headroom(top: u64) -> u64 {
    top.saturating_add(top / 10).saturating_add(1)
}

/// Width in pixels of one month slot, estimated before the chart is built.
pub(super) fn slot_px(area: &Area<'_>, y_area: i32, n: usize) -> f64 {
    let right = 40;
    slot_px_with_right(area, y_area, right, n)
}

pub(super) fn slot_px_with_right(area: &Area<'_>, left: i32, right: i32, n: usize) -> f64 {
    let (w, _) = area.dim_in_pixel();
    f64::from((w as i32 - left - right - 32).max(1)) / n.max(1) as f64
}

/// Gap on each side of the bars in a slot, as a fraction of the slot: bars touch when slots
/// are tiny and are at most ~70 px wide (all `bars` together) when slots are wide.
pub(super) fn bar_margin(slot: f64, bars: usize) -> f64 {
    if slot < 4.0 {
        return 0.0;
    }
    let max_w = 70.0 * bars as f64;
    (0.5 - max_w / 2.0 / slot).max(0.12)
}

pub(super) fn num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

pub(super) fn signed(d: f64) -> String {
    if d.abs() < 1e-9 {
        "±0".into()
    } else if d > 0.0 {
        format!("+{}", num(d))
    } else {
        format!("-{}", num(-d))
    }
}

pub(super) fn display_name(platform: &str) -> String {
    match platform {
        "linkedin" => "LinkedIn".into(),
        "x" => "X".into(),
        "mastodon" => "Mastodon".into(),
        "bluesky" => "Bluesky".into(),
        "facebook" => "Facebook".into(),
        "instagram" => "Instagram".into(),
        "threads" => "Threads".into(),
        "reddit" => "Reddit".into(),
        "all" => "all platforms".into(),
        other => other.into(),
    }
}

pub(super) fn platform_color(platform: &str) -> RGBColor {
    match platform {
        "linkedin" => RGBColor(31, 119, 180),
        "x" => RGBColor(214, 39, 40),
        "mastodon" => RGBColor(148, 103, 189),
        "bluesky" => RGBColor(23, 190, 207),
        "facebook" => RGBColor(44, 160, 44),
        "instagram" => RGBColor(227, 119, 194),
        "threads" => RGBColor(127, 127, 127),
        "reddit" => RGBColor(255, 127, 14),
        _ => RGBColor(140, 86, 75),
    }
}
