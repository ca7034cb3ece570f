//! Group commit for the audit records of reads (a case list, a case's page, a reporter
//! unmasked): browsing is audited (等保三级), and each read is still answered only after
//! its record is committed, but the records of concurrent reads share one transaction
//! and one WAL flush instead of one each.
//!
//! One writer task takes from a bounded queue whatever is waiting (up to [`MAX_BATCH`]) as
//! soon as it is free, so a lone read waits for nobody. When the queue is full, readers
//! wait: the load backs up into the HTTP layer instead of memory. A batch that fails fails
//! every read in it (503, logged: nothing is answered without its record).

use cockpit_store::{AuditEntry, Store};
use tokio::sync::{mpsc, oneshot};

use super::error::ServiceError;

/// The most records one transaction writes.
const MAX_BATCH: usize = 512;
/// Records waiting to be written; when full, readers wait.
const QUEUE: usize = 4096;

/// A record waiting, and where to say that it is committed.
type Waiting = (AuditEntry, oneshot::Sender<Result<(), String>>);

/// The readers' audit writer. Cheap to clone.
#[derive(Clone)]
pub struct ReadAudit {
    queue: mpsc::Sender<Waiting>,
}

impl ReadAudit {
    /// Starts the writer over `store`; it ends when every `ReadAudit` is dropped.
    pub fn start(store: Store) -> ReadAudit {
        let (queue, mut waiting) = mpsc::channel::<Waiting>(QUEUE);
        tokio::spawn(async move {
            while let Some(first) = waiting.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match waiting.try_recv() {
                        Ok(more) => batch.push(more),
                        Err(_) => break,
                    }
                }
                let (entries, replies): (Vec<AuditEntry>, Vec<_>) = batch.into_iter().unzip();
                let result = store.audit_now(&entries).await.map_err(|e| e.to_string());
                if let Err(e) = &result {
                    tracing::warn!(error = %e, records = entries.len(), "writing the readers' audit records failed");
                }
                for reply in replies {
                    let _ = reply.send(result.clone());
                }
            }
        });
        ReadAudit { queue }
    }

    /// Records `entry`, with the records of concurrent reads: returns once it is committed.
    /// Its time is its transaction's (milliseconds after the read).
    pub async fn record(&self, entry: AuditEntry) -> Result<(), ServiceError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || ServiceError::Unavailable("the audit writer stopped: the server is shutting down".into());
        self.queue.send((entry, reply)).await.map_err(|_| stopped())?;
        // The database's words are logged by the writer, not told to the client.
        answer
            .await
            .map_err(|_| stopped())?
            .map_err(|_| ServiceError::Unavailable("the read could not be audited; try again".into()))
    }
}
