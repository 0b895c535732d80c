//! The thread pool the products are split over, and why the caller's work runs inside it.
//!
//! A product split from a thread outside the pool is handed to the pool whole: a worker is
//! woken to take it, the second worker to take its other half, and the caller sleeps until a
//! worker wakes it again. A language model's step makes hundreds of such products (two per
//! layer per time step), each one to three wake-ups of tens of microseconds. From a thread of
//! the pool, the caller works on the first half itself and at most one worker is woken for the
//! second. So the command line runs every command on a worker of one pool ([`on_pool`]);
//! measured by alternating launches of `recur bench` (bench/README.md): medium 1.15x,
//! classify 1.17x, ch06 1.04x, ch05 (no split products) unchanged.
//!
//! A library user gets the same by calling the training loop through [`on_pool`] (or their
//! own `rayon::ThreadPool::install`); called from elsewhere, every result is the same, only
//! slower.

use crate::error::{Error, Result};

/// Stack of the pool's threads: the size of a main thread's (the default for spawned threads is
/// 2 MiB), so that work moved from the main thread onto the pool has the room it had there.
const STACK_BYTES: usize = 8 << 20;

/// Runs `work` on a worker of a new pool of `threads` threads (0: rayon's default, one per core
/// or `RAYON_NUM_THREADS`) and returns its result; the products inside split over that pool.
pub fn on_pool<R: Send>(threads: usize, work: impl FnOnce() -> R + Send) -> Result<R> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(STACK_BYTES)
        .build()
        .map_err(|e| Error::msg(format!("cannot start a pool of {threads} threads: {e}")))?;
    Ok(pool.install(work))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_the_work_on_a_worker_of_a_pool_of_the_given_size() {
        let (index, threads) =
            on_pool(3, || (rayon::current_thread_index(), rayon::current_num_threads())).unwrap();
        assert_eq!((index.is_some(), threads), (true, 3));
        assert_eq!(rayon::current_thread_index(), None, "the caller is not a worker");
    }
}
