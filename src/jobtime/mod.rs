//! How long a job takes: the calibrated job-time model, its data and its
//! validation. `recommend`, `fit`, `plan` and `jobs predict` ask it; none
//! of them computes a job's time itself.
//!
//! - [`jobs`]: the job types and their defaults;
//! - [`query`]: a job's shape and device, and its work;
//! - [`model`]: the fitted parameters and a prediction with its interval;
//! - [`observe`]: published rows and imported runs as observations;
//! - [`fit`]: the fit; [`validate`]: leave-one-out over the rows.

pub mod calibration;
pub mod copy;
pub mod fit;
pub mod jobs;
pub mod model;
pub mod observe;
pub mod predict;
pub mod query;
pub mod validate;

use std::sync::OnceLock;

pub use model::{Model, PredictError, Prediction};
pub use query::{Device, JobQuery};

use crate::datasets::DataError;

/// The model fitted to the shipped rows: `datasets/job-model.json`, which
/// `cryocap calibrate --out datasets/job-model.json` writes from
/// `datasets/job-times.csv` (a unit test fails when it is stale).
pub fn shipped_model() -> Result<&'static Model, DataError> {
    static MODEL: OnceLock<Result<Model, String>> = OnceLock::new();
    let parsed = MODEL.get_or_init(|| {
        serde_json::from_str::<calibration::CalibrationFile>(include_str!(
            "../../datasets/job-model.json"
        ))
        .map(|f| f.model)
        .map_err(|e| e.to_string())
    });
    parsed.as_ref().map_err(|reason| DataError {
        file: "job-model.json",
        reason: reason.clone(),
    })
}

/// The shipped rows' basis, as `calibrate` words it without imported runs.
pub fn shipped_basis(rows: usize) -> String {
    format!("{rows} shipped rows of datasets/job-times.csv")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::Catalog;

    #[test]
    fn the_shipped_model_is_the_fit_of_the_shipped_rows() {
        let (obs, _) = observe::shipped(Catalog::get().unwrap());
        let fresh = fit::calibrate(&obs, &shipped_basis(obs.len()));
        let stored = shipped_model().unwrap();
        assert_eq!(
            calibration::to_json(&fresh).unwrap(),
            calibration::to_json(stored).unwrap(),
            "datasets/job-model.json is stale: run `cargo run --release -- calibrate --out datasets/job-model.json`"
        );
    }
}
