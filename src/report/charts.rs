//! SVG charts drawn with plotters' SVG backend (no font files needed: text
//! is written as SVG text and the browser renders it).

use plotters::prelude::*;

/// A named series of (x, y) points.
pub(super) struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A horizontal reference line, e.g. a GPU's VRAM.
pub(super) struct Level {
    pub name: String,
    pub y: f64,
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        (0.0, 1.0)
    } else if lo == hi {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    }
}

/// A line chart; `y_format` prints the y-axis labels.
pub(super) fn lines(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    levels: &[Level],
    y_format: &dyn Fn(f64) -> String,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 400)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (x0, x1) = span(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
        let (_, y1) = span(
            series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.1))
                .chain(levels.iter().map(|l| l.y)),
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, 0.0..y1 * 1.08)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            // whole numbers on wide axes, one decimal on narrow ones
            .x_label_formatter(&|v| {
                if x1 - x0 < 20.0 {
                    format!("{v:.1}")
                } else {
                    format!("{v:.0}")
                }
            })
            .y_label_formatter(&|v| y_format(*v))
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, s) in series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        for l in levels {
            let y = l.y;
            chart
                .draw_series(LineSeries::new(
                    vec![(x0, y), (x1, y)],
                    BLACK.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(l.name.clone())
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], BLACK.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// A horizontal bar chart of labelled values.
pub(super) fn bars(
    title: &str,
    x_label: &str,
    bars: &[(String, f64)],
    x_format: &dyn Fn(f64) -> String,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let height = 90 + 34 * bars.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut svg, (760, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (_, max) = span(bars.iter().map(|b| b.1).chain(std::iter::once(0.0)));
        let n = bars.len().max(1) as i32;
        let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(220)
            .build_cartesian_2d(0.0..max * 1.1, 0..n)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(x_label)
            .x_label_formatter(&|v| x_format(*v))
            .y_labels(bars.len().max(1))
            .y_label_formatter(&|i| {
                let idx = n - 1 - *i;
                labels.get(idx as usize).cloned().unwrap_or_default()
            })
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
                let row = n - 1 - i as i32;
                let color = PALETTE[i % PALETTE.len()];
                Rectangle::new([(0.0, row), (*v, row + 1)], color.mix(0.8).filled())
            }))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// A labelled point of a scatter chart.
pub(super) struct Point {
    pub label: String,
    pub x: f64,
    pub y: f64,
}

/// A scatter chart of a Pareto frontier: `front` as labelled circles joined
/// by a line (one `<circle>` per point, nothing else drawn as a circle),
/// `others` as grey crosses.
pub(super) fn frontier(
    title: &str,
    x_label: &str,
    y_label: &str,
    front: &[Point],
    others: &[Point],
    x_format: &dyn Fn(f64) -> String,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let all = || front.iter().chain(others);
        let (x0, x1) = span(all().map(|p| p.x).chain(std::iter::once(0.0)));
        let (_, y1) = span(all().map(|p| p.y).chain(std::iter::once(0.0)));
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1 * 1.25, 0.0..y1 * 1.12)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_label_formatter(&|v| x_format(*v))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(|e| e.to_string())?;
        let grey = RGBColor(150, 150, 150);
        chart
            .draw_series(
                others
                    .iter()
                    .map(|p| Cross::new((p.x, p.y), 4, grey.stroke_width(1))),
            )
            .map_err(|e| e.to_string())?;
        let color = PALETTE[0];
        chart
            .draw_series(LineSeries::new(
                front.iter().map(|p| (p.x, p.y)),
                color.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(
                front
                    .iter()
                    .map(|p| Circle::new((p.x, p.y), 5, color.filled())),
            )
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(front.iter().map(|p| {
                Text::new(
                    p.label.clone(),
                    (p.x, p.y),
                    ("sans-serif", 12).into_font().color(&BLACK),
                )
            }))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_chart_has_series_labels_and_levels() {
        let s = vec![Series {
            name: "homo-refine".into(),
            points: vec![(64.0, 1.0), (128.0, 2.0), (256.0, 8.0)],
        }];
        let l = vec![Level {
            name: "24 GiB".into(),
            y: 24.0,
        }];
        let svg = lines("VRAM", "box", "GiB", &s, &l, &|v| format!("{v:.0}")).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("homo-refine") && svg.contains("24 GiB") && svg.contains("VRAM"));
        assert!(svg.contains("<polyline") || svg.contains("<path"));
    }

    #[test]
    fn bar_chart_names_each_bar() {
        let svg = bars(
            "feed",
            "particles/s",
            &[("HDD".into(), 70.0), ("GPU".into(), 4000.0)],
            &|v| format!("{v:.0}"),
        )
        .unwrap();
        assert!(svg.contains("HDD") && svg.contains("GPU"));
        assert!(svg.matches("<rect").count() >= 2);
    }

    #[test]
    fn frontier_chart_has_one_circle_per_frontier_point() {
        let pt = |label: &str, x, y| Point {
            label: label.into(),
            x,
            y,
        };
        let front = [pt("alpha", 10.0, 5.0), pt("beta", 20.0, 9.0)];
        let others = [
            pt("gamma", 30.0, 4.0),
            pt("d", 25.0, 8.0),
            pt("e", 40.0, 1.0),
        ];
        let svg = frontier("f", "price", "rate", &front, &others, &|v| {
            format!("{v:.0}")
        })
        .unwrap();
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
        assert!(svg.contains("alpha") && svg.contains("beta") && !svg.contains("gamma"));
    }
}
