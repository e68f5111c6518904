//! Dependency order for the rows of a dump: each table after the tables its foreign keys
//! reference, so a data-only dump loads into a schema whose keys are enforced. Stable:
//! tables keep the catalog's order wherever the keys do not say otherwise.

use std::collections::BTreeSet;

/// Orders `count` items so that each comes after the items it depends on (`edges` holds
/// `(item, dependency)` pairs; self-references are ignored). Returns the order and the
/// items that sit on a cycle, which end the order in their given order.
pub(crate) fn dependency_order(count: usize, edges: &[(usize, usize)]) -> (Vec<usize>, Vec<usize>) {
    let mut waiting_on = vec![0usize; count];
    let mut dependants: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut seen = BTreeSet::new();
    for &(item, dependency) in edges {
        if item != dependency
            && item < count
            && dependency < count
            && seen.insert((item, dependency))
        {
            waiting_on[item] += 1;
            dependants[dependency].push(item);
        }
    }
    let mut ready: BTreeSet<usize> = (0..count).filter(|&i| waiting_on[i] == 0).collect();
    let mut order = Vec::with_capacity(count);
    while let Some(next) = ready.pop_first() {
        order.push(next);
        for &dependant in &dependants[next] {
            waiting_on[dependant] -= 1;
            if waiting_on[dependant] == 0 {
                ready.insert(dependant);
            }
        }
    }
    let cyclic: Vec<usize> = (0..count).filter(|&i| waiting_on[i] > 0).collect();
    order.extend(&cyclic);
    (order, cyclic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_first_and_order_is_otherwise_kept() {
        // 0 -> 2, 1 -> 0: order 2, 0, 1 would be wrong; 2 first, then 0, then 1.
        let (order, cyclic) = dependency_order(4, &[(0, 2), (1, 0), (3, 3)]);
        assert_eq!(order, vec![2, 0, 1, 3]);
        assert!(cyclic.is_empty());
    }

    #[test]
    fn cycles_are_reported_and_kept_at_the_end() {
        let (order, cyclic) = dependency_order(3, &[(0, 1), (1, 0)]);
        assert_eq!(order, vec![2, 0, 1]);
        assert_eq!(cyclic, vec![0, 1]);
    }
}
