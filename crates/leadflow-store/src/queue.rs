//! The durable queue: hand-overs between sync and the workflow engine, and other jobs.
//!
//! # Transactions and locks
//! A job is enqueued once per `(portal, key)`: enqueuing the same key again does nothing,
//! which makes producers idempotent. Claiming sets `state = 'running'` and a lease in one
//! statement whose outer `state = 'queued'` guard stops a double claim; on PostgreSQL the
//! inner select uses `FOR UPDATE SKIP LOCKED`, so workers do not wait on each other. A job
//! whose lease expired (its worker died) is claimable again.

use sqlx::Row;

use crate::error::{Context, Result};
use crate::store::{Backend, Store};

/// A claimed job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: i64,
    /// Its portal.
    pub portal: String,
    /// What kind of work.
    pub kind: String,
    /// Its idempotency key.
    pub key: String,
    /// Its payload (JSON).
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: i32,
}

impl Store {
    /// Enqueues a job unless one with the same key exists. Returns whether it was added.
    ///
    /// # Errors
    /// A query error.
    pub async fn enqueue(
        &self,
        portal: &str,
        kind: &str,
        key: &str,
        payload: &str,
        run_at: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO queue (portal, kind, key, payload, state, run_at, attempts) VALUES ($1, $2, $3, $4, 'queued', $5, 0) \
             ON CONFLICT (portal, key) DO NOTHING",
        )
        .bind(portal)
        .bind(kind)
        .bind(key)
        .bind(payload)
        .bind(run_at)
        .execute(&self.pool)
        .await
        .ctx("enqueue")?;
        Ok(done.rows_affected() == 1)
    }

    /// Claims the oldest ready job of `kind` (or an expired lease) until `now + lease_ms`.
    ///
    /// # Errors
    /// A query error.
    pub async fn claim(&self, kind: &str, now: i64, lease_ms: i64) -> Result<Option<Job>> {
        macro_rules! claim_sql {
            ($lock:literal) => {
                concat!(
                    "UPDATE queue SET state = 'running', lease_until = $1, attempts = attempts + 1 ",
                    "WHERE id = (SELECT id FROM queue WHERE kind = $2 AND ((state = 'queued' AND run_at <= $3) OR (state = 'running' AND lease_until < $3)) ",
                    "ORDER BY run_at, id LIMIT 1 ",
                    $lock,
                    ") AND (state = 'queued' OR lease_until < $3) RETURNING id, portal, kind, key, payload, attempts"
                )
            };
        }
        let sql = if self.backend() == Backend::Postgres {
            claim_sql!("FOR UPDATE SKIP LOCKED")
        } else {
            claim_sql!("")
        };
        let row = sqlx::query(sql)
            .bind(now + lease_ms)
            .bind(kind)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .ctx("claim")?;
        row.map(|r| {
            Ok(Job {
                id: r.try_get(0).ctx("job")?,
                portal: r.try_get(1).ctx("job")?,
                kind: r.try_get(2).ctx("job")?,
                key: r.try_get(3).ctx("job")?,
                payload: r.try_get(4).ctx("job")?,
                attempts: r.try_get(5).ctx("job")?,
            })
        })
        .transpose()
    }

    /// Marks a job done.
    ///
    /// # Errors
    /// A query error.
    pub async fn complete(&self, id: i64) -> Result<()> {
        sqlx::query("UPDATE queue SET state = 'done', lease_until = NULL WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .ctx("complete")?;
        Ok(())
    }

    /// Puts a job back to run at `run_at` after a failure, or dead-letters it.
    ///
    /// # Errors
    /// A query error.
    pub async fn fail(&self, id: i64, error: &str, retry_at: Option<i64>) -> Result<()> {
        match retry_at {
            Some(at) => sqlx::query("UPDATE queue SET state = 'queued', run_at = $1, lease_until = NULL, last_error = $2 WHERE id = $3")
                .bind(at)
                .bind(error)
                .bind(id)
                .execute(&self.pool)
                .await
                .ctx("retry")?,
            None => sqlx::query("UPDATE queue SET state = 'dead', lease_until = NULL, last_error = $1 WHERE id = $2")
                .bind(error)
                .bind(id)
                .execute(&self.pool)
                .await
                .ctx("dead-letter")?,
        };
        Ok(())
    }

    /// Jobs per state, for status output.
    ///
    /// # Errors
    /// A query error.
    pub async fn queue_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM queue GROUP BY state ORDER BY state")
            .fetch_all(&self.pool)
            .await
            .ctx("queue counts")?;
        rows.into_iter()
            .map(|r| Ok((r.try_get(0).ctx("state")?, r.try_get(1).ctx("count")?)))
            .collect()
    }
}
