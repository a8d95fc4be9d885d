//! What a node with a given number of GPUs needs, from a requirement profile.

use crate::datasets::{Profile, Requirement, Scale};
use crate::results::plan::NodeItem;

fn scale(req: &Requirement, gpus: u32) -> NodeItem {
    let factor = match req.scale {
        Scale::PerGpu => f64::from(gpus),
        Scale::PerNode | Scale::PerDevice => 1.0,
    };
    NodeItem {
        id: req.id.clone(),
        label: req.label.clone(),
        unit: req.unit.clone(),
        applies_to: match req.scale {
            Scale::PerDevice => "each GPU".into(),
            _ => "per node".into(),
        },
        minimum: req.minimum.map(|v| v * factor),
        recommended: req.recommended.map(|v| v * factor),
        source: req.source.clone(),
    }
}

/// The profile's requirements for a node with `gpus` GPUs.
pub(crate) fn requirements(profile: &Profile, gpus: u32) -> Vec<NodeItem> {
    profile
        .requirements
        .iter()
        .map(|r| scale(r, gpus))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::Catalog;

    #[test]
    fn per_gpu_items_scale_and_per_node_items_do_not() {
        let p = Catalog::get().unwrap().profile("cryosparc-worker").unwrap();
        let items = requirements(p, 4);
        let cores = items.iter().find(|i| i.id == "cpu_cores").unwrap();
        assert_eq!((cores.minimum, cores.recommended), (Some(8.0), Some(16.0)));
        let bw = items.iter().find(|i| i.id == "memory_bandwidth").unwrap();
        assert_eq!(bw.minimum, Some(50e9));
        let vram = items.iter().find(|i| i.id == "gpu_vram").unwrap();
        assert_eq!(vram.applies_to, "each GPU");
    }
}
