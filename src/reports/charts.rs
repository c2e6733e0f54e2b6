//! Server-side SVG charts for the access-gap reports.
//!
//! Drawn with `plotters`' SVG backend and its built-in text layout (no font features), so
//! labels stay `<text>` for the viewer to typeset and no fonts ship with the service.
//! The backend writes whole-pixel coordinates, which keeps national maps compact.
//!
//! Over 400 lines with its tests: the two charts share the drawing helpers and element
//! budgets, and the tests that check those budgets belong beside them.

use std::collections::HashMap;
use std::error::Error;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle::{Bold, Normal};

/// One decile's figures for the access-by-decile chart (None = no data).
#[derive(Debug, Clone)]
pub struct DecileBar {
    pub decile: u8, // 1 (most deprived) ..= 10
    pub mean_distance_m: Option<f64>,
    pub median_distance_m: Option<f64>,
    pub share_beyond_threshold: Option<f64>, // 0..=1
}

/// One area on the gap map.
#[derive(Debug, Clone)]
pub struct MapArea {
    pub lat: f64,
    pub lon: f64,
    pub decile: Option<u8>,
    pub gap: bool,
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), Box<dyn Error>>;
type Px = (i32, i32);

/// Diverging RdYlBu (decile 1 dark red .. 10 dark blue), pale middle darkened to show on white.
const PALETTE: [u32; 10] = [
    0xa50026, 0xd73027, 0xf46d43, 0xfdae61, 0xf0c850, 0x96cde1, 0x74add1, 0x4575b4, 0x313695,
    0x14145a,
];
const INK: RGBColor = RGBColor(80, 80, 80);
const MEAN: RGBColor = RGBColor(140, 170, 210);
const MEDIAN: RGBColor = RGBColor(20, 50, 110);
const SHARE: RGBColor = RGBColor(215, 95, 2);
const FONT: &str = "sans-serif";
const TOP: (HPos, VPos) = (HPos::Center, VPos::Top);
const TOP_LEFT: (HPos, VPos) = (HPos::Left, VPos::Top);
const LEFT: (HPos, VPos) = (HPos::Left, VPos::Center);
const MIDDLE: (HPos, VPos) = (HPos::Center, VPos::Center);
const HEADER_H: u32 = 84;
const CAPTION_H: u32 = 24;
const MAP_W: u32 = 630;
/// Element budgets (~90 bytes each) that keep even an evenly spread national map under 3 MB.
const MAX_DOTS: usize = 20_000;
const MAX_RINGS: usize = 6_000;
const MAX_ASSETS: usize = 5_000;

/// Bar/line chart by IMD decile (800x500): bars for mean and a line for median distance (km,
/// left axis), a line for the share of people beyond `threshold_m` (%, right axis).
pub fn decile_chart(
    title: &str,
    basis: &ChartBasis,
    threshold_m: f64,
    rows: &[DecileBar],
) -> Result<String, String> {
    if !threshold_m.is_finite() || threshold_m < 0.0 {
        return Err(format!("invalid threshold: {threshold_m}"));
    }
    let mut rows: Vec<&DecileBar> = rows.iter().filter(|r| matches!(r.decile, 1..=10)).collect();
    rows.sort_by_key(|r| r.decile);
    // Non-finite inputs count as missing, so "NaN" never reaches the SVG.
    let series = |f: fn(&DecileBar) -> Option<f64>| -> Vec<(f64, f64)> {
        let value = |r: &DecileBar| f(r).filter(|v| v.is_finite());
        let point = |r: &&DecileBar| Some((f64::from(r.decile), value(r)?));
        rows.iter().filter_map(point).collect()
    };
    let mean = series(|r| r.mean_distance_m.map(|m| m.max(0.0) / 1000.0));
    let median = series(|r| r.median_distance_m.map(|m| m.max(0.0) / 1000.0));
    let top = mean.iter().chain(&median).map(|p| p.1).fold(0.1, f64::max) * 1.1;
    // Shares are drawn in distance units; the right axis (0..100 %) spans the same height.
    let share = series(|r| r.share_beyond_threshold.map(|s| s.clamp(0.0, 1.0)));
    let share: Vec<(f64, f64)> = share.iter().map(|&(d, s)| (d, s * top)).collect();
    let km = km(threshold_m);
    render((800, 500), |root| {
        let counted = basis.counted();
        let sub = format!("Threshold {km}; right axis: share of {counted} beyond it");
        let (legend, body) = header(root, title, &sub, basis)?.split_vertically(28);
        // Legend in its own strip above the plot, so it can never hide a bar.
        let beyond = format!("Beyond {km} (% of {counted})");
        let labels = ["Mean distance (km)", "Median distance (km)", &beyond];
        let style = font(16, false, BLACK, LEFT);
        for (i, (label, colour)) in labels.into_iter().zip([MEAN, MEDIAN, SHARE]).enumerate() {
            let x = 90 + 230 * i as i32;
            let (y0, y1) = if i == 0 { (8, 20) } else { (13, 15) };
            legend.draw(&Rectangle::new([(x, y0), (x + 18, y1)], colour.filled()))?;
            legend.draw(&Text::new(label, (x + 24, 14), style.clone()))?;
        }
        let mut chart = ChartBuilder::on(&body)
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .right_y_label_area_size(60)
            .build_cartesian_2d(0.5f64..10.5, 0f64..top)?
            .set_secondary_coord(0.5f64..10.5, 0f64..100.0);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(10)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .x_desc("IMD decile (1 = most deprived)")
            .y_desc("Distance to nearest venue (km)")
            .label_style((FONT, 16))
            .draw()?;
        chart
            .configure_secondary_axes()
            .y_label_formatter(&|y| format!("{y:.0}%"))
            .y_desc("Share beyond threshold")
            .label_style((FONT, 16))
            .draw()?;
        let bar = |&(d, v): &(f64, f64)| [(d - 0.35, 0.0), (d + 0.35, v)];
        chart.draw_series(mean.iter().map(|p| Rectangle::new(bar(p), MEAN.filled())))?;
        for (points, colour) in [(&median, MEDIAN), (&share, SHARE)] {
            // Lines break where a decile has no data rather than bridging the hole.
            for run in points.chunk_by(|a, b| b.0 - a.0 == 1.0) {
                chart.draw_series(LineSeries::new(run.to_vec(), colour.stroke_width(2)))?;
            }
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, colour.filled())))?;
        }
        if mean.is_empty() && median.is_empty() && share.is_empty() {
            let note = Text::new("No data", (5.5, top / 2.0), font(20, false, INK, MIDDLE));
            chart.plotting_area().draw(&note)?;
        }
        Ok(())
    })
}

/// Dot map of areas coloured by IMD decile, gap areas ringed, assets as triangles on top, with
/// the legend beside it. 800 wide; the height follows the areas' aspect (500..=1000). Dots,
/// rings and assets are thinned to fixed budgets so ~33k areas and ~100k assets stay a few MB.
pub fn gap_map(
    title: &str,
    basis: &ChartBasis,
    areas: &[MapArea],
    assets: &[(f64, f64)],
) -> Result<String, String> {
    let valid = |lat: f64, lon: f64| lat.abs() <= 90.0 && lon.abs() <= 180.0; // false for NaN
    let areas: Vec<&MapArea> = areas.iter().filter(|a| valid(a.lat, a.lon)).collect();
    // Equirectangular with longitude shrunk by cos(mean latitude): true enough at this scale.
    let mean_lat = areas.iter().map(|a| a.lat).sum::<f64>() / areas.len().max(1) as f64;
    let k = mean_lat.to_radians().cos().max(0.1);
    let pts: Vec<(f64, f64)> = areas.iter().map(|a| (a.lon * k, a.lat)).collect();
    let (x0, x1) = bounds(pts.iter().map(|p| p.0));
    let (y0, y1) = bounds(pts.iter().map(|p| p.1));
    // 5% margin each side, with a floor so one area (or a straight row) still gets a frame.
    let (mut w, mut h) = (((x1 - x0) * 1.1).max(0.05), ((y1 - y0) * 1.1).max(0.05));
    let (plot_w, extra_h) = (f64::from(MAP_W - 20), f64::from(HEADER_H + CAPTION_H + 20));
    let height = (plot_w * h / w + extra_h).round().clamp(500.0, 1000.0);
    // Widen the short span so both axes keep one scale after the height was clamped.
    let plot_h = height - extra_h;
    if h / w < plot_h / plot_w {
        h = w * plot_h / plot_w;
    } else {
        w = h * plot_w / plot_h;
    }
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let (xr, yr) = (cx - w / 2.0..cx + w / 2.0, cy - h / 2.0..cy + h / 2.0);
    render((800, height as u32), |root| {
        let gaps = areas.iter().filter(|a| a.gap).count();
        let sub = format!("Areas: {}; gap areas: {gaps}", areas.len());
        let (panel, legend) = header(root, title, &sub, basis)?.split_horizontally(MAP_W);
        let (panel, caption) = panel.split_vertically(height as u32 - HEADER_H - CAPTION_H);
        let mut chart = ChartBuilder::on(&panel)
            .margin(10)
            .build_cartesian_2d(xr.clone(), yr.clone())?;
        let frame = [(xr.start, yr.start), (xr.end, yr.end)];
        let border = Rectangle::new(frame, colour(None));
        chart.plotting_area().draw(&border)?;
        if pts.is_empty() {
            let note = Text::new("No areas to show", (cx, cy), font(16, false, BLACK, MIDDLE));
            chart.plotting_area().draw(&note)?;
        }
        let px: Vec<Px> = pts.iter().map(|p| chart.backend_coord(p)).collect();
        let (dots, merged) = thin(&px, |_| true, (MAX_DOTS, 4));
        let dot = |&i: &usize| Circle::new(pts[i], 2, colour(areas[i].decile).filled());
        chart.draw_series(dots.iter().map(dot))?;
        let (rings, _) = thin(&px, |i| areas[i].gap, (MAX_RINGS, 7));
        chart.draw_series(rings.iter().map(|&i| Circle::new(pts[i], 3, BLACK)))?;

        // Assets inside the frame: one per pixel (lossless), then every n-th to the budget.
        let apts: Vec<(f64, f64)> = (assets.iter().filter(|a| valid(a.0, a.1)))
            .map(|a| (a.1 * k, a.0))
            .filter(|p| !pts.is_empty() && xr.contains(&p.0) && yr.contains(&p.1))
            .collect();
        let apx: Vec<Px> = apts.iter().map(|p| chart.backend_coord(p)).collect();
        let (distinct, _) = thin(&apx, |_| true, (usize::MAX, 1));
        let step = distinct.len().div_ceil(MAX_ASSETS).max(1);
        let shown: Vec<usize> = distinct.into_iter().step_by(step).collect();
        let ink = BLACK.mix(if shown.len() > 2_000 { 0.5 } else { 1.0 }); // lighter when crowded
        let asset = |&i: &usize| TriangleMarker::new(apts[i], 3, ink.filled());
        chart.draw_series(shown.iter().map(asset))?;

        let mut note = format!("Assets: {} of {} shown", shown.len(), apts.len());
        let every = (step > 1).then(|| format!(", then 1 in {step}"));
        if shown.len() < apts.len() {
            note += &format!(" (one per pixel{})", every.unwrap_or_default());
        }
        if merged {
            note += "; overlapping area dots merged";
        }
        caption.draw(&Text::new(note, (10, 4), font(16, false, INK, TOP_LEFT)))?;
        draw_legend(&legend)
    })
}

/// Legend column beside the map, so it never hides data whatever the geography.
fn draw_legend(area: &Area) -> Drawn {
    let label = font(16, false, BLACK, LEFT);
    let bold = font(16, true, BLACK, TOP_LEFT);
    area.draw(&Text::new("IMD decile", (10, 10), bold))?;
    for i in 0..11 {
        let (y, decile) = (40 + 20 * i, (i < 10).then_some(i as u8 + 1));
        let text = match i {
            0 => "1 most deprived".to_string(),
            9 => "10 least deprived".to_string(),
            10 => "no decile".to_string(),
            _ => (i + 1).to_string(),
        };
        area.draw(&Circle::new((16, y), 5, colour(decile).filled()))?;
        area.draw(&Text::new(text, (30, y), label.clone()))?;
    }
    area.draw(&Circle::new((16, 270), 5, BLACK))?;
    area.draw(&Text::new("gap area", (30, 270), label.clone()))?;
    area.draw(&TriangleMarker::new((16, 291), 4, BLACK.filled()))?;
    area.draw(&Text::new("asset", (30, 290), label))?;
    Ok(())
}

/// Creates the SVG document, runs `draw` on a white canvas, returns the text or the error.
fn render(size: (u32, u32), draw: impl FnOnce(&Area) -> Drawn) -> Result<String, String> {
    let mut svg = String::new();
    let result: Drawn = (|| {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        Ok(root.present()?)
    })();
    result.map_err(|e| format!("chart rendering failed: {e}"))?;
    Ok(svg)
}

/// What a chart's figures rest on, written under its title: the deprivation index (e.g.
/// `IoD2025 (LSOA 2021)`) and whether areas count by their residents or once each.
#[derive(Clone, Debug)]
pub struct ChartBasis {
    pub index: String,
    pub weighted: bool,
}

impl ChartBasis {
    fn line(&self) -> String {
        let weighting = if self.weighted {
            "population-weighted"
        } else {
            "unweighted (no population imported): each area counts once"
        };
        format!("Deprivation: {}; {weighting}", self.index)
    }

    /// What a share counts.
    fn counted(&self) -> &'static str {
        if self.weighted {
            "people"
        } else {
            "areas"
        }
    }
}

/// Draws the title, the subtitle and the basis line; returns the area left below them.
fn header<'a>(
    root: &Area<'a>,
    title: &str,
    subtitle: &str,
    basis: &ChartBasis,
) -> Result<Area<'a>, Box<dyn Error>> {
    let centre = root.dim_in_pixel().0 as i32 / 2;
    // Long titles shrink rather than run off the canvas (bold glyphs average ~0.6 em).
    let size = (1600 / title.chars().count().max(1) as u32).clamp(14, 28);
    let (big, grey) = (font(size, true, BLACK, TOP), font(18, false, INK, TOP));
    root.draw(&Text::new(title, (centre, 10), big))?;
    root.draw(&Text::new(subtitle, (centre, 38), grey))?;
    root.draw(&Text::new(
        basis.line(),
        (centre, 62),
        font(16, false, INK, TOP),
    ))?;
    Ok(root.split_vertically(HEADER_H).1)
}

/// Text style anchored at `(h, v)`; plotters writes `size / 1.24` as the SVG font-size.
fn font(size: u32, bold: bool, colour: RGBColor, (h, v): (HPos, VPos)) -> TextStyle<'static> {
    let font = (FONT, size, if bold { Bold } else { Normal }).into_font();
    font.color(&colour).pos(Pos::new(h, v))
}

/// Picks which points passing `keep` to draw so that at most one sits in each grid cell, the
/// last one winning as it would on screen. One-pixel cells lose nothing; cells grow (up to
/// `max_cell`, about a marker's width) only while the count exceeds `budget`. Returns indices
/// in draw order and whether cells wider than a pixel were needed.
fn thin(px: &[Px], keep: impl Fn(usize) -> bool, limit: (usize, i32)) -> (Vec<usize>, bool) {
    let ((budget, max_cell), mut cell) = (limit, 1);
    loop {
        let mut last = HashMap::with_capacity(px.len());
        for (i, (x, y)) in px.iter().enumerate().filter(|(i, _)| keep(*i)) {
            last.insert((x.div_euclid(cell), y.div_euclid(cell)), i);
        }
        if last.len() <= budget || cell >= max_cell {
            let mut kept: Vec<usize> = last.into_values().collect();
            kept.sort_unstable();
            return (kept, cell > 1);
        }
        cell += 1;
    }
}

fn colour(decile: Option<u8>) -> RGBColor {
    let hex = decile.and_then(|d| PALETTE.get(usize::from(d).checked_sub(1)?));
    let c = hex.copied().unwrap_or(0xa0a0a0); // grey: no decile
    RGBColor((c >> 16) as u8, (c >> 8) as u8, c as u8)
}

/// (min, max) of the values, or (0, 0) when there are none.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let widen = |(lo, hi): (f64, f64), v: f64| (lo.min(v), hi.max(v));
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), widen);
    let empty = lo > hi;
    (if empty { 0.0 } else { lo }, if empty { 0.0 } else { hi })
}

fn km(metres: f64) -> String {
    if metres < 1000.0 {
        return format!("{metres:.0} m");
    }
    let text = format!("{:.1}", metres / 1000.0);
    format!("{} km", text.trim_end_matches(".0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Well-formed, finite, and containing each of the `|`-separated texts.
    fn check(svg: &str, texts: &str) {
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        for text in texts.split('|') {
            assert!(svg.contains(text), "missing {text}");
        }
    }

    fn count(svg: &str, pattern: &str) -> usize {
        svg.matches(pattern).count()
    }

    /// xorshift64: deterministic numbers in [0, 1) without a dependency.
    fn rnd(s: &mut u64) -> f64 {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        (*s >> 11) as f64 / (1u64 << 53) as f64
    }

    fn weighted() -> ChartBasis {
        ChartBasis {
            index: "IoD2025 (LSOA 2021)".into(),
            weighted: true,
        }
    }

    fn area(lat: f64, lon: f64, decile: Option<u8>, gap: bool) -> MapArea {
        MapArea {
            lat,
            lon,
            decile,
            gap,
        }
    }

    #[test]
    fn decile_chart_draws_bars_lines_and_legend() {
        let bar = |d: u8| DecileBar {
            decile: d,
            mean_distance_m: (d != 4).then_some(800.0 + 250.0 * f64::from(d)),
            median_distance_m: (d != 7).then_some(600.0 + 200.0 * f64::from(d)),
            share_beyond_threshold: Some(if d == 9 { f64::NAN } else { 0.09 * d as f64 }),
        };
        let rows: Vec<DecileBar> = (1..=10).map(bar).collect();
        let svg = decile_chart("Museums & deprivation", &weighted(), 2000.0, &rows).unwrap();
        let want = "Museums &amp; deprivation|Threshold 2 km|IMD decile (1 = most deprived)";
        check(&svg, want);
        let legend = "Mean distance (km)|Median distance (km)|Beyond 2 km (% of people)";
        check(&svg, legend);
        check(
            &svg,
            "Deprivation: IoD2025 (LSOA 2021); population-weighted",
        );
        let unweighted = ChartBasis {
            index: "IoD2019 (LSOA 2011)".into(),
            weighted: false,
        };
        let plain = decile_chart("Museums", &unweighted, 2000.0, &rows).unwrap();
        check(
            &plain,
            "Deprivation: IoD2019 (LSOA 2011); unweighted (no population imported)",
        );
        check(&plain, "Beyond 2 km (% of areas)|share of areas beyond it");
        // 9 bars (decile 4 has none) + legend swatch; 9 + 9 markers (7 and 9 missing).
        assert_eq!(count(&svg, r##"fill="#8CAAD2""##), 10);
        assert_eq!(count(&svg, r#"r="4""#), 18);

        let svg = decile_chart("Empty", &weighted(), 1500.0, &[]).unwrap();
        check(&svg, "No data|1.5 km");
        let mut bad = bar(3);
        bad.mean_distance_m = Some(f64::INFINITY);
        check(
            &decile_chart("Bad", &weighted(), 800.0, &[bad]).unwrap(),
            "800 m",
        );
        assert!(decile_chart("x", &weighted(), f64::NAN, &[]).is_err());
    }

    #[test]
    fn map_draws_one_dot_per_area_and_legend() {
        let areas: Vec<MapArea> = (0..12u8)
            .map(|i| {
                let (lat, lon) = (51.0 + 0.1 * f64::from(i), -2.0 + 0.15 * f64::from(i % 4));
                area(lat, lon, (i < 11).then_some(i % 10 + 1), i % 3 == 0)
            })
            .collect();
        let assets = [(51.2, -1.9), (51.5, -1.6), (60.0, 5.0)]; // the last is off the map
        let svg = gap_map("Gap map", &weighted(), &areas, &assets).unwrap();
        let want = "Gap map|Areas: 12; gap areas: 4|IMD decile|1 most deprived|10 least deprived";
        check(&svg, want);
        check(&svg, "no decile|gap area|asset|Assets: 2 of 2 shown");
        assert_eq!(count(&svg, r#"r="2""#), 12); // one dot per area
        assert_eq!(count(&svg, r#"r="3""#), 4); // one ring per gap area
        assert_eq!(count(&svg, "<polygon"), 2 + 1); // assets on the map + legend

        let svg = gap_map("Nothing", &weighted(), &[], &[(51.0, 0.0)]).unwrap();
        check(&svg, "No areas to show|Areas: 0");
        let svg = gap_map(
            "One",
            &weighted(),
            &[area(52.0, -1.0, None, true)],
            &[(52.0, -1.0)],
        );
        let svg = svg.unwrap();
        check(&svg, "Areas: 1; gap areas: 1|Assets: 1 of 1");
        assert_eq!(count(&svg, r#"r="2""#), 1);
        let nan = [area(f64::NAN, 0.0, None, false)];
        let svg = gap_map("Bad", &weighted(), &nan, &[(f64::NAN, 1.0)]).unwrap();
        check(&svg, "Areas: 0|Assets: 0 of 0");
    }

    /// England-sized data: towns with deprived cores, gap areas mostly rural. With no towns
    /// every area is rural and spread evenly: the worst case for overlap and for rings.
    fn england(n: usize, towns: &[[f64; 3]], s: &mut u64) -> Vec<MapArea> {
        let mut one = |i: usize| {
            let (lat, lon, u) = (50.0 + 5.7 * rnd(s), -5.6 + 7.3 * rnd(s), rnd(s));
            let town = towns.get(i % towns.len().max(1)).filter(|_| i & 3 != 0);
            let Some(&[a, b, c]) = town else {
                return area(lat, lon, Some((u * 10.0) as u8 + 1), u < 0.4);
            };
            let (tlat, tlon, r) = (50.5 + 4.5 * a, -4.0 + 5.0 * b, 0.03 + 0.2 * c);
            let (angle, d) = (std::f64::consts::TAU * rnd(s), u.sqrt());
            let decile = Some((1.0 + 10.0 * (0.7 * d + 0.3 * rnd(s))) as u8);
            let (lat, lon) = (tlat + r * d * angle.sin(), tlon + 1.6 * r * d * angle.cos());
            area(lat, lon, decile, u > 0.97)
        };
        (0..n).map(&mut one).collect()
    }

    #[test]
    fn national_map_is_fast_and_compact() {
        let mut s = 7;
        let towns = [(); 40].map(|_| [rnd(&mut s), rnd(&mut s), rnd(&mut s)]);
        let assets: Vec<(f64, f64)> = england(100_000, &towns, &mut s)
            .iter()
            .map(|a| (a.lat, a.lon))
            .collect();
        for (label, towns) in [("clustered", &towns[..]), ("uniform", &[])] {
            let areas = england(33_000, towns, &mut s);
            let start = std::time::Instant::now();
            let svg = gap_map("Arts venues: access gaps", &weighted(), &areas, &assets).unwrap();
            let (took, size) = (start.elapsed(), svg.len());
            println!("{label}: 33,000 areas + 100,000 assets: {size} bytes in {took:?}");
            check(&svg, "Arts venues: access gaps|Assets: ");
            assert!(size < 3_000_000 && count(&svg, "<polygon") <= MAX_ASSETS + 1);
            assert!(took.as_millis() < 500 || cfg!(debug_assertions));
        }
    }
}
