//! CSV in long form, the one shape every result's CSV has:
//! `section,item,metric,value,unit`, one row per figure, for spreadsheets
//! and scripts (`item` names the row's subject, empty when the section has
//! one).

/// Rows gathered in memory; [`LongCsv::finish`] writes them, and any error
/// the CSV writer meets is returned, not dropped.
#[derive(Debug, Default)]
pub struct LongCsv {
    rows: Vec<[String; 5]>,
}

impl LongCsv {
    pub fn add(
        &mut self,
        section: &str,
        item: &str,
        metric: &str,
        value: impl ToString,
        unit: &str,
    ) {
        self.rows.push([
            section.to_string(),
            item.to_string(),
            metric.to_string(),
            value.to_string(),
            short_unit(unit).to_string(),
        ]);
    }

    /// A repeated measurement: its `median`, `min` and `max`, in that order.
    pub fn add_spread(&mut self, section: &str, item: &str, spread: [f64; 3], unit: &str) {
        for (metric, v) in ["median", "min", "max"].into_iter().zip(spread) {
            self.add(section, item, metric, v, unit);
        }
    }

    /// The CSV text, with its header row.
    pub fn finish(self) -> Result<String, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["section", "item", "metric", "value", "unit"])?;
        for r in &self.rows {
            w.write_record(r)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))?;
        // Every field was a Rust string, so the bytes are UTF-8.
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// One spelling of each unit in every CSV: metrics name their units as
/// identifiers (`bytes_per_second`), the CSV in short form (`bytes/s`).
fn short_unit(unit: &str) -> &str {
    match unit {
        "bytes_per_second" => "bytes/s",
        "bits_per_second" => "bits/s",
        "particles_per_second" => "particles/s",
        "seconds" => "s",
        "nanoseconds" => "ns",
        "hertz" => "Hz",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_have_one_spelling() {
        let mut c = LongCsv::default();
        c.add("metric", "bw", "median", 1, "bytes_per_second");
        c.add("run", "x", "seconds", 2, "s");
        let text = c.finish().unwrap();
        assert!(text.contains("bw,median,1,bytes/s") && text.contains("seconds,2,s"));
    }

    #[test]
    fn rows_come_out_under_one_header_and_quoted() {
        let mut c = LongCsv::default();
        c.add("stack", "", "bytes", 10, "bytes");
        c.add("stack", "a,b", "note", "x \"y\"", "");
        assert_eq!(
            c.finish().unwrap(),
            "section,item,metric,value,unit\nstack,,bytes,10,bytes\nstack,\"a,b\",note,\"x \"\"y\"\"\",\n"
        );
    }
}
