//! The shuffled order a task reads its examples in, as a checkpoint keeps it: the epoch's order
//! and the generator that drew it (and draws what comes next), so a resumed epoch reads the same
//! examples in the same order.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// `{"order": [...], "rng": [4 integers]}` in the task's checkpoint state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedOrder {
    /// The epoch's order: a permutation of the example indices.
    pub order: Vec<usize>,
    /// The state of the generator that drew it (see [`Rng::state`](crate::tensor::Rng::state)).
    pub rng: [u64; 4],
}

impl SavedOrder {
    /// This order as the JSON value the task's checkpoint state holds.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("an order serialises")
    }

    /// Reads `json` back, checking that the order is a permutation of the run's `n` `examples`
    /// (`"training windows"`): anything else means the data changed since the run started.
    pub fn read(json: &serde_json::Value, n: usize, examples: &str) -> Result<SavedOrder> {
        let saved: SavedOrder = serde_json::from_value(json.clone())
            .map_err(|e| Error::msg(format!("the task state is not an order of {examples} ({e})")))?;
        if !is_permutation(&saved.order, n) {
            return Err(Error::msg(format!(
                "the task state's order holds {} entries, not an order of the run's {n} {examples}: the data changed \
                 since the run started",
                saved.order.len()
            )));
        }
        Ok(saved)
    }
}

/// Whether `order` holds each of `0..n` exactly once.
pub fn is_permutation(order: &[usize], n: usize) -> bool {
    let mut seen = vec![false; n];
    order.len() == n && order.iter().all(|&i| i < n && !std::mem::replace(&mut seen[i], true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_permutations_of_the_run_read_back() {
        let saved = SavedOrder { order: vec![2, 0, 1], rng: [1, 2, 3, 4] };
        assert_eq!(SavedOrder::read(&saved.to_json(), 3, "pairs").unwrap(), saved);
        assert!(SavedOrder::read(&saved.to_json(), 4, "pairs").is_err());
        let twice = SavedOrder { order: vec![0, 0, 1], rng: [0; 4] };
        assert!(SavedOrder::read(&twice.to_json(), 3, "pairs")
            .unwrap_err()
            .message()
            .contains("data changed"));
        assert!(SavedOrder::read(&serde_json::json!({"order": [0]}), 1, "pairs").is_err());
    }
}
