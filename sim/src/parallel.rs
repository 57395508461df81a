//! A work pool on scoped threads whose results come back in input order.
//!
//! Simulated runs are independent and CPU-bound, so plain OS threads pulling the next item
//! from a shared counter keep every core busy without an async runtime. Results are stored
//! by index, so what the caller sees never depends on how many threads ran or which finished
//! first: the only thing scheduling may change is the order of the `done` callbacks.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `f` over `items` on up to `jobs` threads and returns the results in input order.
///
/// `done(index, &result)` is called once per item as it finishes (from the worker thread,
/// in completion order), for progress reporting.
pub fn run_parallel<T, R, F, D>(items: &[T], jobs: usize, f: F, done: D) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
    D: Fn(usize, &R) + Sync,
{
    let jobs = jobs.max(1).min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= items.len() {
                        break;
                    }
                    let r = f(&items[i]);
                    done(i, &r);
                    // A poisoned lock only means another worker panicked; its panic is
                    // re-raised when the scope joins, so keep storing.
                    slots.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
                }
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|r| r.expect("every item ran: a worker that panicked re-raised its panic at the scope's end"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_input_order_whatever_the_job_count() {
        let items: Vec<u64> = (0..50).collect();
        // Uneven work so threads finish out of order.
        let work = |x: &u64| {
            let mut acc = *x;
            for _ in 0..((50 - x) * 2000) {
                acc = acc.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            (*x, acc)
        };
        let one = run_parallel(&items, 1, work, |_, _| {});
        let four = run_parallel(&items, 4, work, |_, _| {});
        assert_eq!(one, four);
        assert_eq!(one.iter().map(|r| r.0).collect::<Vec<_>>(), items);
    }

    #[test]
    fn done_is_called_once_per_item() {
        let items: Vec<u32> = (0..17).collect();
        let seen = Mutex::new(Vec::new());
        run_parallel(&items, 3, |x| x * 2, |i, r| seen.lock().unwrap().push((i, *r)));
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert_eq!(
            seen,
            items.iter().map(|&i| (i as usize, i * 2)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn no_items_and_zero_jobs_are_fine() {
        let none: Vec<u8> = run_parallel(&[] as &[u8], 0, |x| *x, |_, _| {});
        assert!(none.is_empty());
        assert_eq!(run_parallel(&[1u8, 2], 0, |x| *x + 1, |_, _| {}), vec![2, 3]);
    }
}
