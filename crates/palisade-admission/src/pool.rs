//! The decision pool: the CPU-heavy part of a review (JSON parsing, ingest, the check engine,
//! serializing the answer) runs on tokio's blocking threads, at most `threads` at once, so the
//! I/O reactor threads keep reading bodies and answering probes whatever the load. At most
//! `queue` more reviews wait for a thread; beyond that a review is refused at once (the server
//! answers 503 with `Retry-After`).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bounded decision threads with a bounded queue in front of them.
#[derive(Debug)]
pub(crate) struct DecisionPool {
    /// One permit per decision thread.
    threads: Arc<Semaphore>,
    /// One permit per review running or waiting.
    admitted: Arc<Semaphore>,
    /// Permits of `admitted`.
    capacity: usize,
}

/// A review's place in the pool (running or queued), held until it is answered.
#[derive(Debug)]
pub(crate) struct Admitted {
    _slot: OwnedSemaphorePermit,
}

/// A decision thread, reserved.
#[derive(Debug)]
pub(crate) struct Thread(OwnedSemaphorePermit);

impl DecisionPool {
    /// `threads` decisions at once (at least one), `queue` more waiting.
    pub(crate) fn new(threads: usize, queue: usize) -> DecisionPool {
        let threads = threads.max(1);
        DecisionPool {
            threads: Arc::new(Semaphore::new(threads)),
            admitted: Arc::new(Semaphore::new(threads + queue)),
            capacity: threads + queue,
        }
    }

    /// Reviews running or waiting now.
    pub(crate) fn in_flight(&self) -> usize {
        self.capacity - self.admitted.available_permits()
    }

    /// A place for one more review, or `None` when the threads are busy and the queue is full.
    pub(crate) fn admit(&self) -> Option<Admitted> {
        self.admitted
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|slot| Admitted { _slot: slot })
    }

    /// Waits for a free decision thread.
    pub(crate) async fn thread(&self, _place: &Admitted) -> Thread {
        // The semaphore is never closed.
        Thread(
            self.threads
                .clone()
                .acquire_owned()
                .await
                .expect("the decision semaphore is never closed"),
        )
    }
}

impl Thread {
    /// Runs `job` on a blocking thread; the thread is released when the job ends, even when
    /// the caller stopped waiting (a job cannot be interrupted, so it keeps its thread).
    /// `None` when the job panicked.
    pub(crate) async fn run<T: Send + 'static>(
        self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let permit = self.0;
        tokio::task::spawn_blocking(move || {
            let out = job();
            drop(permit);
            out
        })
        .await
        .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_queue_is_bounded_and_frees_its_places() {
        let pool = DecisionPool::new(1, 2);
        let places: Vec<_> = (0..3).map(|_| pool.admit().expect("a place")).collect();
        assert!(pool.admit().is_none(), "one thread and two queued: full");
        assert_eq!(pool.in_flight(), 3);
        drop(places);
        let place = pool.admit().expect("places come back");
        let thread = pool.thread(&place).await;
        assert_eq!(thread.run(|| 6 * 7).await, Some(42));
        // The thread is free again once the job ended.
        let again = pool.thread(&place).await;
        assert_eq!(again.run(|| ()).await, Some(()));
    }
}
