//! The work budget: costly work (reports not yet cached, what-if, imports, exports,
//! password hashing) runs off the request threads, on a few threads of its own at a lower
//! CPU priority, behind admission control. When every thread is busy and the short queue is
//! full, a new request is refused at once (503 with `Retry-After`) instead of waiting,
//! piling up memory and starving everyone else; one client may hold only a few places
//! (429), so a single caller cannot fill the queue. Cheap reads never enter a budget, and
//! the request threads that answer them win the CPU over costly work.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

pub use crate::config::BudgetSettings;

/// Why work was not admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Every slot and queue place is taken: try again after a moment (503).
    Busy { retry_after_s: u64 },
    /// This client already holds its share (429).
    ClientBusy { retry_after_s: u64, held: usize },
    /// The work panicked or its thread was lost.
    Failed(String),
}

type Job = Box<dyn FnOnce() + Send>;

/// The nice value of the budget's threads: under contention the request threads (nice 0)
/// get about nine tenths of a core's time, so searches keep their latency while reports
/// are computed.
const NICE: i32 = 10;

/// One kind of costly work, its threads and its bounds.
pub struct Budget {
    settings: BudgetSettings,
    jobs: Mutex<mpsc::Sender<Job>>,
    /// Admitted: running or waiting.
    admitted: AtomicUsize,
    /// Refused since start, for metrics.
    refused: AtomicUsize,
    per_client: Mutex<HashMap<String, usize>>,
}

impl Budget {
    /// A budget with `settings.running` threads named `name-N`; they end when the budget
    /// is dropped.
    pub fn new(name: &str, settings: BudgetSettings) -> Self {
        let running = settings.running.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..running {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return, // the budget is gone
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a work thread");
            }
        }
        Budget {
            settings: BudgetSettings {
                running,
                ..settings
            },
            jobs: Mutex::new(jobs),
            admitted: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            per_client: Mutex::default(),
        }
    }

    pub fn settings(&self) -> BudgetSettings {
        self.settings
    }

    /// Work admitted now (running or queued), for metrics.
    pub fn in_use(&self) -> usize {
        self.admitted.load(Ordering::Relaxed)
    }

    /// Requests refused since start, for metrics.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::Relaxed)
    }

    /// Runs `work` on one of the budget's threads once one is free, or refuses at once:
    /// when `client` (an address, a key or a curator) already holds its share, or when the
    /// threads and the queue are full.
    ///
    /// The place is held until the work ends, even if the request is dropped (its client
    /// hung up), since a running thread cannot be stopped (otherwise clients that hang up
    /// could start any number); work whose request is gone before it starts is skipped.
    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        client: &str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Refused> {
        let place = self.admit(client).inspect_err(|_| {
            self.refused.fetch_add(1, Ordering::Relaxed);
        })?;
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            if done.is_closed() {
                return;
            }
            let out = std::panic::catch_unwind(AssertUnwindSafe(work));
            release_free_memory();
            // The place is free before the answer goes out, so the caller's next request
            // finds it free.
            drop(place);
            let _ = done.send(out);
        });
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(job)
            .map_err(|_| Refused::Failed("the work threads are gone".into()))?;
        match result.await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(_)) => Err(Refused::Failed("the work panicked".into())),
            Err(_) => Err(Refused::Failed("the work thread ended".into())),
        }
    }

    fn admit(self: &Arc<Self>, client: &str) -> Result<Place, Refused> {
        let capacity = self.settings.running + self.settings.queued;
        let mut clients = self.per_client.lock().unwrap_or_else(|e| e.into_inner());
        let held = clients.get(client).copied().unwrap_or(0);
        if self.settings.per_client > 0 && held >= self.settings.per_client {
            return Err(Refused::ClientBusy {
                retry_after_s: 1,
                held,
            });
        }
        if self
            .admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < capacity).then_some(n + 1)
            })
            .is_err()
        {
            return Err(Refused::Busy { retry_after_s: 1 });
        }
        *clients.entry(client.to_string()).or_insert(0) += 1;
        Ok(Place {
            budget: self.clone(),
            client: client.to_string(),
        })
    }
}

/// A place taken in the budget, given back when its work ends (or is skipped).
struct Place {
    budget: Arc<Budget>,
    client: String,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.budget.admitted.fetch_sub(1, Ordering::AcqRel);
        let mut clients = self
            .budget
            .per_client
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = clients.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                clients.remove(&self.client);
            }
        }
    }
}

/// Lowers the calling thread's CPU priority to [`NICE`] (on Linux the nice value is a
/// thread's own; threads it starts inherit it).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread (who = 0) has no memory-safety preconditions.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, NICE);
    }
}

/// Hands freed memory back to the system. Costly work allocates tens of MiB for a moment on
/// whichever thread ran it, and a snapshot's build or many deltas free chunks all over the
/// heap; glibc keeps freed memory in per-thread arenas, so without this the resident size
/// only ever grows to the worst burst seen. (A few milliseconds.)
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the system; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

impl Refused {
    /// How long the client should wait before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Refused::Busy { retry_after_s } | Refused::ClientBusy { retry_after_s, .. } => {
                Some(Duration::from_secs(*retry_after_s))
            }
            Refused::Failed(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(running: usize, queued: usize, per_client: usize) -> Arc<Budget> {
        Arc::new(Budget::new(
            "test",
            BudgetSettings {
                running,
                queued,
                per_client,
            },
        ))
    }

    /// Work that holds its slot until `release` is sent.
    fn blocked(rx: std::sync::mpsc::Receiver<()>) -> impl FnOnce() + Send + 'static {
        move || {
            let _ = rx.recv();
        }
    }

    #[actix_web::test]
    async fn refuses_at_once_when_slots_and_queue_are_full_then_recovers() {
        let b = budget(1, 1, 0);
        let (tx1, rx1) = std::sync::mpsc::channel();
        let (tx2, rx2) = std::sync::mpsc::channel();
        let first = tokio::spawn({
            let b = b.clone();
            async move { b.run("a", blocked(rx1)).await }
        });
        let second = tokio::spawn({
            let b = b.clone();
            async move { b.run("b", blocked(rx2)).await }
        });
        while b.in_use() < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            b.run("c", || ()).await,
            Err(Refused::Busy { retry_after_s: 1 })
        );
        tx1.send(()).unwrap();
        tx2.send(()).unwrap();
        first.await.unwrap().unwrap();
        second.await.unwrap().unwrap();
        assert_eq!(b.in_use(), 0);
        assert_eq!(b.run("c", || 7).await, Ok(7));
    }

    #[actix_web::test]
    async fn work_whose_request_is_dropped_holds_its_slot_until_it_ends() {
        let b = budget(1, 0, 0);
        let (tx, rx) = std::sync::mpsc::channel();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let request = tokio::spawn({
            let b = b.clone();
            async move {
                b.run("gone", move || {
                    started_tx.send(()).unwrap();
                    let _ = rx.recv();
                })
                .await
            }
        });
        while started_rx.try_recv().is_err() {
            tokio::task::yield_now().await;
        }
        request.abort(); // the client hung up
        let _ = request.await;
        assert_eq!(
            b.run("next", || ()).await,
            Err(Refused::Busy { retry_after_s: 1 }),
            "the work still runs, so its slot is still taken"
        );
        tx.send(()).unwrap();
        while b.in_use() > 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(b.run("next", || 3).await, Ok(3));
    }

    #[actix_web::test]
    async fn one_client_holds_at_most_its_share() {
        let b = budget(4, 4, 1);
        let (tx, rx) = std::sync::mpsc::channel();
        let held = tokio::spawn({
            let b = b.clone();
            async move { b.run("greedy", blocked(rx)).await }
        });
        while b.in_use() < 1 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(
            b.run("greedy", || ()).await,
            Err(Refused::ClientBusy { held: 1, .. })
        ));
        assert_eq!(b.run("modest", || 1).await, Ok(1), "others still get in");
        tx.send(()).unwrap();
        held.await.unwrap().unwrap();
        assert_eq!(b.run("greedy", || 2).await, Ok(2));
    }
}
