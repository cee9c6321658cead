//! Lookups by key on PostgreSQL gathered into one statement (issue 14).
//!
//! On PostgreSQL a lookup of one row by its key costs the server about as much for setting up
//! the statement as for finding the row, and both sides a round trip and a task switch. When
//! many lookups of one kind arrive together (a certificate's public check by its number, a
//! case's revision), one statement for all their keys (`= ANY($1)`) costs little more than one
//! for a single key: `pgbench -M prepared`, 16 clients, four numbers a statement read 110–133 k
//! certificates a second against 38–40 k one a statement.
//!
//! How: a lookup that finds fewer than `at_once` statements running runs its own at once.
//! Otherwise it waits its turn; when a statement ends, the lookups that waited while it ran
//! go together in the next one, led by the first of them (its task runs the statement and
//! answers the others), so no task is spawned and nobody waits for more than the statement
//! running and its own.
//!
//! A lookup is only ever answered by a statement that *began after it asked*: it never joins
//! a statement already running. So a change committed before a lookup asks (a certificate
//! revoked) is always in its answer, as with a statement of its own.
//!
//! A leader dropped midway (its request abandoned) passes the lead on; the lookups it was
//! answering then look up alone, as they do when the gathered statement fails.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use crate::Result;

/// At most this many lookups go in one statement (the rest wait for the next).
const MOST: usize = 64;

/// Lookups of one kind: by key `K`, each answered with the row `V` of its key, if any.
pub(crate) struct Batch<K, V>(pub(super) Arc<Shared<K, V>>);

impl<K, V> Clone for Batch<K, V> {
    fn clone(&self) -> Self {
        Batch(Arc::clone(&self.0))
    }
}

pub(super) struct Shared<K, V> {
    /// How many statements of this kind may run at once.
    at_once: usize,
    state: Mutex<State<K, V>>,
}

struct State<K, V> {
    running: usize,
    waiting: Vec<Waiter<K, V>>,
}

struct Waiter<K, V> {
    key: K,
    turn: oneshot::Sender<Turn<K, V>>,
}

enum Turn<K, V> {
    /// The row of the key (read by a statement begun after the lookup asked).
    Answer(Option<V>),
    /// The gathered statement failed, or its leader was dropped: look up alone.
    Alone,
    /// Run the next statement, for the key and the waiters given.
    Lead(Leading<K, V>),
}

/// The lead of one statement, with the lookups it answers. Dropped — at the statement's end,
/// or with an abandoned request — it passes the lead to the lookups waiting, or ends.
struct Leading<K, V> {
    shared: Option<Arc<Shared<K, V>>>,
    others: Vec<Waiter<K, V>>,
}

impl<K, V> Batch<K, V> {
    /// Lookups with at most `at_once` statements running together.
    pub(crate) fn new(at_once: usize) -> Batch<K, V> {
        Batch(Arc::new(Shared {
            at_once: at_once.max(1),
            state: Mutex::new(State {
                running: 0,
                waiting: Vec::new(),
            }),
        }))
    }
}

impl<K, V> Shared<K, V> {
    fn lock(&self) -> MutexGuard<'_, State<K, V>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<K: Eq + Clone, V: Clone> Batch<K, V> {
    /// The row of `key`: `run` reads the rows of the keys it is given (each key once), each
    /// with its key.
    pub(crate) async fn get<F, Fut>(&self, key: K, run: F) -> Result<Option<V>>
    where
        F: Fn(Vec<K>) -> Fut,
        Fut: Future<Output = Result<Vec<(K, V)>>>,
    {
        let queued = {
            let mut s = self.0.lock();
            if s.running < self.0.at_once {
                s.running += 1;
                None
            } else {
                let (turn, rx) = oneshot::channel();
                s.waiting.push(Waiter {
                    key: key.clone(),
                    turn,
                });
                Some(rx)
            }
        };
        let mut lead = match queued {
            None => Leading {
                shared: Some(Arc::clone(&self.0)),
                others: Vec::new(),
            },
            Some(rx) => match rx.await {
                Ok(Turn::Answer(v)) => return Ok(v),
                Ok(Turn::Lead(lead)) => lead,
                Ok(Turn::Alone) | Err(_) => return Ok(row_of(&key, run(vec![key.clone()]).await?)),
            },
        };
        let mut keys = vec![key.clone()];
        for w in &lead.others {
            if !keys.contains(&w.key) {
                keys.push(w.key.clone());
            }
        }
        match run(keys).await {
            Ok(rows) => {
                for w in lead.others.drain(..) {
                    let v = rows
                        .iter()
                        .find(|(k, _)| *k == w.key)
                        .map(|(_, v)| v.clone());
                    // A waiter gone (its request abandoned) wants no answer.
                    let _ = w.turn.send(Turn::Answer(v));
                }
                Ok(row_of(&key, rows))
            }
            Err(e) => {
                for w in lead.others.drain(..) {
                    let _ = w.turn.send(Turn::Alone);
                }
                Err(e)
            }
        }
    }
}

fn row_of<K: Eq, V>(key: &K, rows: Vec<(K, V)>) -> Option<V> {
    rows.into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

impl<K, V> Drop for Leading<K, V> {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        // Waiters still in `others` (the leader dropped midway) see their turn dropped and
        // look up alone.
        let mut s = shared.lock();
        while !s.waiting.is_empty() {
            let n = s.waiting.len().min(MOST);
            let mut next: Vec<_> = s.waiting.drain(..n).collect();
            let first = next.remove(0);
            let lead = Leading {
                shared: Some(Arc::clone(&shared)),
                others: next,
            };
            let Err(turn) = first.turn.send(Turn::Lead(lead)) else {
                return;
            };
            // That lookup is gone: the others wait again, first in line.
            if let Turn::Lead(mut back) = turn {
                back.shared = None;
                let others = std::mem::take(&mut back.others);
                s.waiting.splice(0..0, others);
            }
        }
        s.running -= 1;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::Semaphore;

    use super::*;
    use crate::StoreError;

    /// Statements of a test: each numbered from 1 as it begins, with the keys it was given.
    #[derive(Default)]
    struct Log {
        begun: AtomicUsize,
        keys: Mutex<Vec<Vec<u32>>>,
    }

    impl Log {
        /// A statement: the row of each key is (its number, the key doubled); key 0 has none.
        async fn run(&self, keys: Vec<u32>, hold: &Semaphore) -> Result<Vec<(u32, (usize, u32))>> {
            let n = self.begun.fetch_add(1, Ordering::SeqCst) + 1;
            self.keys.lock().unwrap().push(keys.clone());
            hold.acquire().await.unwrap().forget();
            Ok(keys
                .into_iter()
                .filter(|k| *k != 0)
                .map(|k| (k, (n, k * 2)))
                .collect())
        }
    }

    /// Waits (yielding to the runtime, no sleeping) until `f` holds.
    async fn until(f: impl Fn() -> bool) {
        while !f() {
            tokio::task::yield_now().await;
        }
    }

    /// Lookups of a test, their statements ([`Log`]) held until `hold` gives a permit each.
    struct Rig {
        batch: Batch<u32, (usize, u32)>,
        log: Arc<Log>,
        hold: Arc<Semaphore>,
    }

    impl Rig {
        fn new(at_once: usize) -> Rig {
            Rig {
                batch: Batch::new(at_once),
                log: Arc::new(Log::default()),
                hold: Arc::new(Semaphore::new(0)),
            }
        }

        /// A lookup of `key` on a task of its own: how many statements had begun when it
        /// asked, and its answer.
        fn ask(&self, key: u32) -> tokio::task::JoinHandle<(usize, Option<(usize, u32)>)> {
            let (batch, log, hold) = (
                self.batch.clone(),
                Arc::clone(&self.log),
                Arc::clone(&self.hold),
            );
            tokio::spawn(async move {
                let asked_after = log.begun.load(Ordering::SeqCst);
                let v = batch.get(key, |keys| log.run(keys, &hold)).await.unwrap();
                (asked_after, v)
            })
        }

        fn begun(&self) -> usize {
            self.log.begun.load(Ordering::SeqCst)
        }

        async fn until_begun(&self, n: usize) {
            until(|| self.begun() == n).await;
        }

        async fn until_waiting(&self, n: usize) {
            until(|| self.batch.0.lock().waiting.len() == n).await;
        }

        fn running(&self) -> usize {
            self.batch.0.lock().running
        }
    }

    /// Lookups asking while a statement runs go together in the next, led by the first of
    /// them; each answer is its own key's row, read by a statement begun after it asked.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lookups_asking_together_share_the_next_statement() {
        let rig = Rig::new(1);
        let first = rig.ask(7);
        rig.until_begun(1).await;
        // Five more while the first statement runs, in this order: 0 (no row), 3, 5, 3
        // again, 9.
        let mut rest = Vec::new();
        for (i, key) in [0, 3, 5, 3, 9].into_iter().enumerate() {
            rest.push(rig.ask(key));
            rig.until_waiting(i + 1).await;
        }
        rig.hold.add_permits(1);
        rig.until_begun(2).await;
        rig.hold.add_permits(1);
        let (asked, v) = first.await.unwrap();
        assert_eq!((asked, v), (0, Some((1, 14))));
        for (task, key) in rest.into_iter().zip([0u32, 3, 5, 3, 9]) {
            let (asked, v) = task.await.unwrap();
            assert_eq!(asked, 1, "asked while the first statement ran");
            let want = (key != 0).then_some((2, key * 2));
            assert_eq!(v, want, "key {key}: its row, from the second statement");
        }
        // Two statements for six lookups; the second had each key once, its leader's first.
        assert_eq!(
            *rig.log.keys.lock().unwrap(),
            vec![vec![7], vec![0, 3, 5, 9]],
            "each key once a statement"
        );
        assert_eq!(rig.running(), 0, "nothing runs after");
    }

    /// With two statements allowed at once, the second lookup does not wait for the first.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn up_to_at_once_statements_run_together() {
        let rig = Rig::new(2);
        let mut tasks = Vec::new();
        for key in [1, 2, 3] {
            tasks.push(rig.ask(key));
            if key < 3 {
                rig.until_begun(key as usize).await;
            }
        }
        rig.until_waiting(1).await;
        assert_eq!(rig.begun(), 2, "the third waits");
        rig.hold.add_permits(3);
        let mut got = Vec::new();
        for t in tasks {
            got.push(t.await.unwrap().1.unwrap().1);
        }
        assert_eq!(got, vec![2, 4, 6]);
        assert_eq!(rig.begun(), 3);
    }

    /// A failed statement fails its leader; the lookups it was to answer look up alone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_statement_sends_the_others_alone() {
        let batch = Batch::<u32, u32>::new(1);
        let begun = Arc::new(AtomicUsize::new(0));
        let hold = Arc::new(Semaphore::new(0));
        // The second statement (the gathered one) fails; the rest succeed.
        let run = |begun: Arc<AtomicUsize>, hold: Arc<Semaphore>| {
            move |keys: Vec<u32>| {
                let (begun, hold) = (Arc::clone(&begun), Arc::clone(&hold));
                async move {
                    let n = begun.fetch_add(1, Ordering::SeqCst) + 1;
                    if n == 1 {
                        hold.acquire().await.unwrap().forget();
                    }
                    if n == 2 {
                        return Err(StoreError::Read("refused".into()));
                    }
                    Ok(keys.into_iter().map(|k| (k, k + 100)).collect())
                }
            }
        };
        let spawn = |key: u32| {
            let (batch, begun, hold) = (batch.clone(), Arc::clone(&begun), Arc::clone(&hold));
            tokio::spawn(async move { batch.get(key, run(begun, hold)).await })
        };
        let first = spawn(1);
        until(|| begun.load(Ordering::SeqCst) == 1).await;
        let lead = spawn(2);
        until(|| batch.0.lock().waiting.len() == 1).await;
        let other = spawn(3);
        until(|| batch.0.lock().waiting.len() == 2).await;
        hold.add_permits(1);
        assert_eq!(first.await.unwrap().unwrap(), Some(101));
        assert!(
            lead.await.unwrap().is_err(),
            "the leader has its statement's error"
        );
        assert_eq!(other.await.unwrap().unwrap(), Some(103), "looked up alone");
        assert_eq!(begun.load(Ordering::SeqCst), 3);
        assert_eq!(batch.0.lock().running, 0);
    }

    /// A leader abandoned midway passes the lead on: the lookups it was answering look up
    /// alone, those waiting behind them get the next statement, and later lookups still run.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_abandoned_leader_passes_the_lead_on() {
        let rig = Rig::new(1);
        let first = rig.ask(1);
        rig.until_begun(1).await;
        let lead = rig.ask(2);
        rig.until_waiting(1).await;
        let answered = rig.ask(3);
        rig.until_waiting(2).await;
        rig.hold.add_permits(1);
        assert_eq!(first.await.unwrap().1, Some((1, 2)));
        rig.until_begun(2).await;
        // The leader of statement 2 (keys 2 and 3) is abandoned midway, while 4 waits.
        let behind = rig.ask(4);
        rig.until_waiting(1).await;
        lead.abort();
        assert!(lead.await.unwrap_err().is_cancelled());
        // Key 3 looks up alone, key 4 leads the next statement: two more, in either order.
        rig.until_begun(4).await;
        rig.hold.add_permits(2);
        assert_eq!(answered.await.unwrap().1.unwrap().1, 6);
        assert_eq!(behind.await.unwrap().1.unwrap().1, 8);
        let mut tail = rig.log.keys.lock().unwrap()[2..].to_vec();
        tail.sort();
        assert_eq!(tail, vec![vec![3], vec![4]]);
        assert_eq!(rig.running(), 0, "the abandoned lead's place is given back");
        // And a lookup after all that runs at once.
        let after = rig.ask(5);
        rig.until_begun(5).await;
        rig.hold.add_permits(1);
        assert_eq!(after.await.unwrap().1.unwrap().1, 10);
    }
}
