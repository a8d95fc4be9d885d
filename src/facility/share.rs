//! How reads share the links: every flow crosses the storage link and its
//! node's link; rates are max-min fair (progressive filling): all flows
//! grow together until a link is full, the flows on it stop, the rest go
//! on. Pure.

/// Rates in bytes a second, one per flow; `node_of[i]` is flow i's node,
/// `node_caps[n]` node n's link, `shared` the storage link.
pub(super) fn max_min_rates(node_of: &[usize], node_caps: &[f64], shared: f64) -> Vec<f64> {
    let n = node_of.len();
    let mut rate = vec![0.0; n];
    let mut frozen = vec![false; n];
    let mut node_used = vec![0.0; node_caps.len()];
    let mut shared_used = 0.0;
    loop {
        let live = frozen.iter().filter(|f| !**f).count();
        if live == 0 {
            return rate;
        }
        // The largest equal step every live flow can take.
        let mut step = (shared - shared_used) / live as f64;
        let mut live_on = vec![0usize; node_caps.len()];
        for (i, &node) in node_of.iter().enumerate() {
            if !frozen[i] {
                live_on[node] += 1;
            }
        }
        for (node, &k) in live_on.iter().enumerate() {
            if k > 0 {
                step = step.min((node_caps[node] - node_used[node]) / k as f64);
            }
        }
        let step = step.max(0.0);
        for (i, &node) in node_of.iter().enumerate() {
            if !frozen[i] {
                rate[i] += step;
                node_used[node] += step;
                shared_used += step;
            }
        }
        let shared_full = shared - shared_used <= shared * 1e-12;
        for (i, &node) in node_of.iter().enumerate() {
            let node_full = node_caps[node] - node_used[node] <= node_caps[node] * 1e-12;
            if shared_full || node_full {
                frozen[i] = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_node_leaves_the_rest_of_the_link_to_the_others() {
        // Link 10; node 0 capped at 1, node 1 at 100: 1 and 9.
        let r = max_min_rates(&[0, 1], &[1.0, 100.0], 10.0);
        assert!(
            (r[0] - 1.0).abs() < 1e-9 && (r[1] - 9.0).abs() < 1e-9,
            "{r:?}"
        );
        // Two flows on one node share its link; the third has the rest.
        let r = max_min_rates(&[0, 0, 1], &[4.0, 100.0], 10.0);
        assert!(
            (r[0] - 2.0).abs() < 1e-9 && (r[2] - 6.0).abs() < 1e-9,
            "{r:?}"
        );
        // Equal shares when the storage link binds.
        let r = max_min_rates(&[0, 1, 2], &[100.0; 3], 9.0);
        assert!(r.iter().all(|x| (x - 3.0).abs() < 1e-9), "{r:?}");
        assert!(max_min_rates(&[], &[1.0], 1.0).is_empty());
    }

    use proptest::prelude::*;
    proptest! {
        #[test]
        fn no_link_is_over_its_capacity_and_some_link_is_full(
            nodes in proptest::collection::vec(0usize..4, 1..12),
            caps in proptest::collection::vec(0.1f64..50.0, 4),
            shared in 0.1f64..100.0,
        ) {
            let r = max_min_rates(&nodes, &caps, shared);
            let total: f64 = r.iter().sum();
            prop_assert!(total <= shared * (1.0 + 1e-9));
            let mut per = [0.0; 4];
            for (i, &n) in nodes.iter().enumerate() {
                per[n] += r[i];
            }
            for n in 0..4 {
                prop_assert!(per[n] <= caps[n] * (1.0 + 1e-9));
            }
            // Every flow is held back by a full link (else it could grow).
            for (i, &n) in nodes.iter().enumerate() {
                let node_full = per[n] >= caps[n] * (1.0 - 1e-9);
                let shared_full = total >= shared * (1.0 - 1e-9);
                prop_assert!(node_full || shared_full, "flow {i} could grow");
            }
        }
    }
}
