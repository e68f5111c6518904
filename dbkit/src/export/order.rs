//! Dependency order, as pg_dump_sort.c does it: a topological sort that keeps the given
//! order (kind, then name) as the tie-breaker. It orders the rows of a dump (each table
//! after the tables its foreign keys reference, so a data-only dump loads into a schema
//! whose keys are enforced) and PostgreSQL's objects (from `pg_depend`).

use std::collections::BTreeSet;

/// Orders `count` items so that each comes after the items it depends on (`edges` holds
/// `(item, dependency)` pairs; self-references are ignored), keeping the given order
/// wherever the edges allow: of the items ready, the first comes next. Where items depend
/// on each other in a cycle, the first of those left is taken as if ready and the order
/// goes on; every item that was waiting at such a point is returned as cyclic.
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
    let mut done = vec![false; count];
    let mut order = Vec::with_capacity(count);
    let mut cyclic = BTreeSet::new();
    loop {
        while let Some(next) = ready.pop_first() {
            done[next] = true;
            order.push(next);
            for &dependant in &dependants[next] {
                if !done[dependant] {
                    waiting_on[dependant] = waiting_on[dependant].saturating_sub(1);
                    if waiting_on[dependant] == 0 {
                        ready.insert(dependant);
                    }
                }
            }
        }
        let waiting: Vec<usize> = (0..count).filter(|&i| !done[i]).collect();
        let Some(&first) = waiting.first() else {
            break;
        };
        cyclic.extend(waiting);
        waiting_on[first] = 0;
        ready.insert(first);
    }
    (order, cyclic.into_iter().collect())
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
    fn a_cycle_is_broken_at_its_first_item_and_the_rest_stays_ordered() {
        // 1 <-> 2 is a cycle; 3 needs 2; 0 needs nothing.
        let (order, cyclic) = dependency_order(4, &[(1, 2), (2, 1), (3, 2)]);
        assert_eq!(order, vec![0, 1, 2, 3]);
        assert_eq!(cyclic, vec![1, 2, 3]);
    }

    #[test]
    fn cycles_are_reported_and_kept_at_the_end() {
        let (order, cyclic) = dependency_order(3, &[(0, 1), (1, 0)]);
        assert_eq!(order, vec![2, 0, 1]);
        assert_eq!(cyclic, vec![0, 1]);
    }
}
