//! Health measurements kept for `leadflow status` and `/metrics`: flushes of a HubSpot
//! client's latency histogram, and checks of the store's counts against the portal's.
//!
//! The store keeps the histogram as the text it is given; what the numbers mean (and how
//! percentiles are taken) is the binary's business.

use sqlx::Row;

use crate::error::{Context, Result};
use crate::store::Store;

/// One flush of a client's API latency histogram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatencyFlush {
    /// When it was flushed (unix ms).
    pub recorded_at: i64,
    /// Calls measured since the previous flush.
    pub calls: i64,
    /// How many of them failed (an error status or no answer).
    pub errors: i64,
    /// The recorded values, as the writer encoded them.
    pub histogram: String,
    /// The daily budget left, as HubSpot last reported it.
    pub daily_remaining: Option<i64>,
    /// The daily budget, as HubSpot last reported it.
    pub daily_limit: Option<i64>,
}

/// The store's and the portal's count of one object type, taken at the same time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountCheck {
    /// When (unix ms).
    pub checked_at: i64,
    /// The object type's API name.
    pub object_type: String,
    /// Live records in the store.
    pub store_count: i64,
    /// Records the portal counted.
    pub portal_count: i64,
}

impl Store {
    /// Appends a latency flush.
    ///
    /// # Errors
    /// A query error.
    pub async fn record_latency(&self, portal: &str, f: &LatencyFlush) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_latency (portal, recorded_at, calls, errors, histogram, daily_remaining, daily_limit) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(portal)
        .bind(f.recorded_at)
        .bind(f.calls)
        .bind(f.errors)
        .bind(&f.histogram)
        .bind(f.daily_remaining)
        .bind(f.daily_limit)
        .execute(&self.pool)
        .await
        .ctx("record latency")?;
        Ok(())
    }

    /// The latency flushes since `since` (unix ms), oldest first.
    ///
    /// # Errors
    /// A query error.
    pub async fn latency_since(&self, portal: &str, since: i64) -> Result<Vec<LatencyFlush>> {
        let rows = sqlx::query(
            "SELECT recorded_at, calls, errors, histogram, daily_remaining, daily_limit FROM api_latency \
             WHERE portal = $1 AND recorded_at >= $2 ORDER BY recorded_at",
        )
        .bind(portal)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .ctx("read latency")?;
        rows.iter()
            .map(|r| {
                Ok(LatencyFlush {
                    recorded_at: r.try_get(0).ctx("latency")?,
                    calls: r.try_get(1).ctx("latency")?,
                    errors: r.try_get(2).ctx("latency")?,
                    histogram: r.try_get(3).ctx("latency")?,
                    daily_remaining: r.try_get(4).ctx("latency")?,
                    daily_limit: r.try_get(5).ctx("latency")?,
                })
            })
            .collect()
    }

    /// Stores one count check (every object type checked at the same instant).
    ///
    /// # Errors
    /// A query error.
    pub async fn record_count_checks(&self, portal: &str, checks: &[CountCheck]) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        for c in checks {
            sqlx::query(
                "INSERT INTO count_checks (portal, checked_at, object_type, store_count, portal_count) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(portal)
            .bind(c.checked_at)
            .bind(&c.object_type)
            .bind(c.store_count)
            .bind(c.portal_count)
            .execute(&mut *tx)
            .await
            .ctx("record count check")?;
        }
        tx.commit().await.ctx("commit")?;
        Ok(())
    }

    /// The latest count check, one row per object type (empty when none was taken).
    ///
    /// # Errors
    /// A query error.
    pub async fn last_count_check(&self, portal: &str) -> Result<Vec<CountCheck>> {
        let rows = sqlx::query(
            "SELECT checked_at, object_type, store_count, portal_count FROM count_checks \
             WHERE portal = $1 AND checked_at = (SELECT MAX(checked_at) FROM count_checks WHERE portal = $1) \
             ORDER BY object_type",
        )
        .bind(portal)
        .fetch_all(&self.pool)
        .await
        .ctx("read count checks")?;
        rows.iter()
            .map(|r| {
                Ok(CountCheck {
                    checked_at: r.try_get(0).ctx("count check")?,
                    object_type: r.try_get(1).ctx("count check")?,
                    store_count: r.try_get(2).ctx("count check")?,
                    portal_count: r.try_get(3).ctx("count check")?,
                })
            })
            .collect()
    }

    /// Intents per state whose last change was at or after `since` (unix ms): what the
    /// workflow execution success rate over a window is computed from.
    ///
    /// # Errors
    /// A query error.
    pub async fn intent_states_since(
        &self,
        portal: &str,
        since: i64,
    ) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT state, COUNT(*) FROM intents WHERE portal = $1 AND updated_at >= $2 GROUP BY state ORDER BY state",
        )
        .bind(portal)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .ctx("count intents")?;
        rows.iter()
            .map(|r| Ok((r.try_get(0).ctx("count")?, r.try_get(1).ctx("count")?)))
            .collect()
    }
}
