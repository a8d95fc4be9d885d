//! The sweep chart: bytes copied and waiting hours against SSD size, as an
//! SVG drawn by plotters' SVG backend (text is left to the viewer's fonts,
//! so nothing here needs fontconfig or freetype).

use plotters::prelude::*;

use crate::results::cache::SweepReport;
use crate::units;

/// The chart as SVG text.
pub fn sweep_svg(r: &SweepReport) -> Result<String, String> {
    let mut svg = String::new();
    draw(r, &mut svg).map_err(|e| format!("could not draw the chart: {e}"))?;
    Ok(svg)
}

fn draw<'a>(r: &SweepReport, svg: &'a mut String) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let tb = |b: u64| b as f64 / 1e12;
    let xs: Vec<f64> = r.points.iter().map(|p| tb(p.ssd_bytes)).collect();
    let (mut x_lo, mut x_hi) = (
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(0.0, f64::max),
    );
    if !(x_lo.is_finite() && x_lo > 0.0) {
        x_lo = 1e-3;
    }
    if x_hi <= x_lo {
        x_hi = x_lo * 2.0;
    }
    let copied: Vec<(f64, f64)> = r
        .points
        .iter()
        .map(|p| (tb(p.ssd_bytes), tb(p.stats.bytes_copied)))
        .collect();
    let waits: Vec<(f64, f64)> = r
        .points
        .iter()
        .map(|p| (tb(p.ssd_bytes), p.stats.wait_seconds / 3600.0))
        .collect();
    let y1 = copied.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-3) * 1.1;
    let y2 = waits.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0) * 1.1;

    let root = SVGBackend::with_string(svg, (900, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("SSD cache sweep: {}", r.trace), ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .right_y_label_area_size(70)
        .build_cartesian_2d((x_lo..x_hi).log_scale(), 0f64..y1)?
        .set_secondary_coord((x_lo..x_hi).log_scale(), 0f64..y2);
    chart
        .configure_mesh()
        .x_desc("SSD size (TB, log scale)")
        .y_desc("bytes copied into the cache (TB)")
        .x_label_formatter(&|x| format!("{x:.2}"))
        .y_label_formatter(&|y| format!("{y:.1}"))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc("job waiting (hours)")
        .label_style(("sans-serif", 14))
        .draw()?;
    chart
        .draw_series(LineSeries::new(copied.clone(), BLUE.stroke_width(2)))?
        .label("bytes copied (TB)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart.draw_series(copied.iter().map(|&p| Circle::new(p, 3, BLUE.filled())))?;
    chart
        .draw_secondary_series(LineSeries::new(waits.clone(), RED.stroke_width(2)))?
        .label("waiting (hours)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart.draw_secondary_series(waits.iter().map(|&p| Circle::new(p, 3, RED.filled())))?;
    if let Some(rec) = &r.recommendation {
        let x = tb(rec.ssd_bytes);
        chart
            .draw_series(LineSeries::new(
                vec![(x, 0.0), (x, y1)],
                GREEN.stroke_width(2),
            ))?
            .label(format!(
                "recommended: {}",
                units::bytes_decimal(rec.ssd_bytes)
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREEN.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()?;
    Ok(())
}
