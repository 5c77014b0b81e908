//! Webhook events: stored durably, deduplicated, before HubSpot is answered.
//!
//! HubSpot may deliver an event twice and in any order, so each event is keyed by
//! (subscription id, event id, occurred at) and inserted with `ON CONFLICT DO NOTHING`;
//! the whole batch goes in one transaction, so a 2xx means every event is on disk.

use crate::error::{Context, Result};
use crate::store::Store;

/// One event of a delivery, as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookEvent {
    /// `subscriptionId:eventId:occurredAt`.
    pub key: String,
    /// Such as `contact.propertyChange`.
    pub subscription_type: String,
    /// The record.
    pub object_id: String,
    /// When it happened, unix ms.
    pub occurred_at: i64,
    /// For property changes.
    pub property_name: Option<String>,
    /// For property changes.
    pub property_value: Option<String>,
    /// The event's JSON as received.
    pub payload: String,
}

/// What storing a batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WebhookBatchOutcome {
    /// Events new to the store.
    pub stored: usize,
    /// Events seen before.
    pub duplicates: usize,
}

impl Store {
    /// Stores a delivery's events in one transaction.
    ///
    /// # Errors
    /// A query error; nothing is stored then.
    pub async fn store_webhook_events(
        &self,
        portal: &str,
        events: &[WebhookEvent],
        received_at: i64,
    ) -> Result<WebhookBatchOutcome> {
        let mut out = WebhookBatchOutcome::default();
        let mut tx = self.pool.begin().await.ctx("begin")?;
        // Statements of 25 events (200 parameters): few round trips per delivery, and few
        // parameters per statement (sqlx's SQLite driver looks each one up by name).
        for chunk in events.chunks(25) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = i * 8;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, $1, 0)",
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7,
                        b + 8,
                        b + 9
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO webhook_events (portal, event_key, subscription_type, object_id, occurred_at, property_name, property_value, payload, received_at, processed) \
                 VALUES {} ON CONFLICT (portal, event_key) DO NOTHING",
                rows.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(received_at);
            for e in chunk {
                q = q
                    .bind(portal)
                    .bind(&e.key)
                    .bind(&e.subscription_type)
                    .bind(&e.object_id)
                    .bind(e.occurred_at)
                    .bind(&e.property_name)
                    .bind(&e.property_value)
                    .bind(&e.payload);
            }
            let done = q.execute(&mut *tx).await.ctx("store webhook events")?;
            let stored = done.rows_affected() as usize;
            out.stored += stored;
            out.duplicates += chunk.len() - stored;
        }
        tx.commit().await.ctx("commit")?;
        Ok(out)
    }

    /// Unprocessed webhook events, oldest occurrence first.
    ///
    /// # Errors
    /// A query error.
    pub async fn pending_webhook_events(
        &self,
        portal: &str,
        limit: i64,
    ) -> Result<Vec<WebhookEvent>> {
        use sqlx::Row;
        let rows = sqlx::query(
            "SELECT event_key, subscription_type, object_id, occurred_at, property_name, property_value, payload FROM webhook_events \
             WHERE portal = $1 AND processed = 0 ORDER BY occurred_at, event_key LIMIT $2",
        )
        .bind(portal)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("read webhook events")?;
        rows.into_iter()
            .map(|r| {
                Ok(WebhookEvent {
                    key: r.try_get(0).ctx("event")?,
                    subscription_type: r.try_get(1).ctx("event")?,
                    object_id: r.try_get(2).ctx("event")?,
                    occurred_at: r.try_get(3).ctx("event")?,
                    property_name: r.try_get(4).ctx("event")?,
                    property_value: r.try_get(5).ctx("event")?,
                    payload: r.try_get(6).ctx("event")?,
                })
            })
            .collect()
    }

    /// Marks events processed.
    ///
    /// # Errors
    /// A query error.
    pub async fn mark_webhook_events_processed(&self, portal: &str, keys: &[String]) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        for k in keys {
            sqlx::query(
                "UPDATE webhook_events SET processed = 1 WHERE portal = $1 AND event_key = $2",
            )
            .bind(portal)
            .bind(k)
            .execute(&mut *tx)
            .await
            .ctx("mark processed")?;
        }
        tx.commit().await.ctx("commit")?;
        Ok(())
    }

    /// How many events wait to be applied, and when the oldest of them occurred.
    ///
    /// # Errors
    /// A query error.
    pub async fn pending_webhook_summary(&self, portal: &str) -> Result<(i64, Option<i64>)> {
        use sqlx::Row;
        let row = sqlx::query(
            "SELECT COUNT(*), MIN(occurred_at) FROM webhook_events WHERE portal = $1 AND processed = 0",
        )
        .bind(portal)
        .fetch_one(&self.pool)
        .await
        .ctx("count webhook events")?;
        Ok((
            row.try_get(0).ctx("count webhook events")?,
            row.try_get(1).ctx("count webhook events")?,
        ))
    }
}
