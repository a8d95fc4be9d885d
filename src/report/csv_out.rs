//! CSV: the results' numbers in long form (`section,item,metric,value,unit`),
//! one row per figure, for spreadsheets and scripts.

use crate::results::PlanReport;

pub(crate) struct Rows(csv::Writer<Vec<u8>>);

impl Rows {
    pub(crate) fn new() -> Self {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(["section", "item", "metric", "value", "unit"]);
        Rows(w)
    }
    pub(crate) fn add(
        &mut self,
        section: &str,
        item: &str,
        metric: &str,
        value: impl ToString,
        unit: &str,
    ) {
        let _ = self
            .0
            .write_record([section, item, metric, &value.to_string(), unit]);
    }
    pub(crate) fn finish(self) -> String {
        String::from_utf8(self.0.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

pub fn plan(r: &PlanReport) -> String {
    let mut w = Rows::new();
    w.add("input", "", "particles", r.input.particles, "particles");
    w.add("input", "", "box", r.input.box_size, "pixels");
    w.add("input", "", "dtype", r.input.dtype.label(), "");
    w.add("input", "", "size_model", &r.input.size_model, "");
    w.add("input", "", "gpus", r.input.gpus, "GPUs");
    w.add("input", "", "passes", r.input.passes, "passes");
    w.add("stack", "", "bytes", r.stack.bytes, "bytes");
    w.add(
        "stack",
        "",
        "bytes_per_particle",
        r.stack.bytes_per_particle,
        "bytes",
    );
    w.add(
        "stack",
        "",
        "pixel_bytes_per_particle",
        r.stack.pixel_bytes_per_particle,
        "bytes",
    );
    if let Some(f) = r.stack.files {
        w.add("stack", "", "files", f, "files");
    }
    w.add("ssd", "", "needed_bytes", r.ssd.needed_bytes, "bytes");
    w.add("ssd", "", "reserve_mb", r.ssd.reserve_mb, "MB");
    if let Some(b) = r.ssd.recommended_bytes {
        w.add("ssd", "", "recommended_bytes", b, "bytes");
    }
    if let Some(q) = r.ssd.quota_mb {
        w.add("ssd", "", "quota_mb", q, "MB");
    }
    if let Some(g) = &r.ssd.given {
        w.add("ssd", "given", "drive_bytes", g.drive_bytes, "bytes");
        w.add("ssd", "given", "capacity_bytes", g.capacity_bytes, "bytes");
        w.add("ssd", "given", "fits", g.fits, "");
        for m in &g.remedies {
            w.add("ssd", &m.kind, "stack_bytes", m.stack_bytes, "bytes");
            if let Some(v) = m.value {
                w.add(
                    "ssd",
                    &m.kind,
                    "value",
                    v,
                    if m.kind == "fourier_crop" {
                        "pixels"
                    } else {
                        "particles"
                    },
                );
            }
        }
    }
    for v in &r.vram {
        w.add("vram", &v.job, "bytes_needed", v.bytes_needed, "bytes");
        if let Some(b) = v.max_box {
            w.add("vram", &v.job, "max_box", b, "pixels");
        }
        if let Some(f) = v.fits {
            w.add("vram", &v.job, "fits", f, "");
        }
    }
    for s in &r.storage {
        w.add(
            "storage",
            &s.tier,
            "seconds_per_pass_sequential",
            s.seconds_per_pass_sequential,
            "s",
        );
        w.add(
            "storage",
            &s.tier,
            "seconds_per_pass_random",
            s.seconds_per_pass_random,
            "s",
        );
        w.add(
            "storage",
            &s.tier,
            "seconds_all_passes_random",
            s.seconds_all_passes_random,
            "s",
        );
        w.add(
            "storage",
            &s.tier,
            "seconds_fill_cache",
            s.seconds_fill_cache,
            "s",
        );
        w.add(
            "storage",
            &s.tier,
            "seconds_all_passes_cached",
            s.seconds_all_passes_cached,
            "s",
        );
    }
    for i in &r.node.items {
        if let Some(v) = i.minimum {
            w.add("node", &i.id, "minimum", v, &i.unit);
        }
        if let Some(v) = i.recommended {
            w.add("node", &i.id, "recommended", v, &i.unit);
        }
    }
    w.finish()
}
