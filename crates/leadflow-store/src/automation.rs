//! What the scheduler keeps (`schedule_runs`: one row per claimed slot) and the paged read
//! of live contacts the daily scoring run walks.
//!
//! A slot is claimed by inserting its row: the primary key (portal, schedule, slot) makes
//! a second worker's insert do nothing, so whoever's insert took runs the slot and nobody
//! else does. This module knows rows; cron expressions and what a job does are the
//! automation crate's business.

use sqlx::Row;

use crate::error::{Context, Error, Result};
use crate::records::StoredRecord;
use crate::store::Store;

/// A claimed slot of a schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleRun {
    /// The schedule's key (`daily_cleanup`).
    pub schedule: String,
    /// The slot it ran for (unix ms).
    pub slot_at: i64,
    /// When the run started (unix ms).
    pub started_at: i64,
    /// When it finished (unix ms); `None` while running, or when it was interrupted.
    pub finished_at: Option<i64>,
    /// What it did, in words, or why it failed.
    pub outcome: Option<String>,
}

impl Store {
    /// Claims the slot `slot_at` of `schedule`: true when this call's insert took (run
    /// it), false when the slot was claimed before (by another worker, or an earlier run).
    ///
    /// # Transactions and locks
    /// One `INSERT … ON CONFLICT DO NOTHING` on the primary key: of concurrent claimers,
    /// exactly one sees a row inserted.
    ///
    /// # Errors
    /// A query error.
    pub async fn claim_schedule_slot(
        &self,
        portal: &str,
        schedule: &str,
        slot_at: i64,
        started_at: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO schedule_runs (portal, schedule, slot_at, started_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (portal, schedule, slot_at) DO NOTHING",
        )
        .bind(portal)
        .bind(schedule)
        .bind(slot_at)
        .bind(started_at)
        .execute(&self.pool)
        .await
        .ctx("claim schedule slot")?;
        Ok(done.rows_affected() == 1)
    }

    /// Records how a claimed slot's run ended.
    ///
    /// # Errors
    /// A query error.
    pub async fn finish_schedule_slot(
        &self,
        portal: &str,
        schedule: &str,
        slot_at: i64,
        finished_at: i64,
        outcome: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE schedule_runs SET finished_at = $4, outcome = $5 \
             WHERE portal = $1 AND schedule = $2 AND slot_at = $3",
        )
        .bind(portal)
        .bind(schedule)
        .bind(slot_at)
        .bind(finished_at)
        .bind(outcome)
        .execute(&self.pool)
        .await
        .ctx("finish schedule slot")?;
        Ok(())
    }

    /// The latest claimed slot of `schedule`, the scheduler's "last run".
    ///
    /// # Errors
    /// A query error.
    pub async fn last_schedule_run(
        &self,
        portal: &str,
        schedule: &str,
    ) -> Result<Option<ScheduleRun>> {
        let row = sqlx::query(
            "SELECT schedule, slot_at, started_at, finished_at, outcome FROM schedule_runs \
             WHERE portal = $1 AND schedule = $2 ORDER BY slot_at DESC LIMIT 1",
        )
        .bind(portal)
        .bind(schedule)
        .fetch_optional(&self.pool)
        .await
        .ctx("read schedule runs")?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(ScheduleRun {
            schedule: r.try_get(0).ctx("schedule run")?,
            slot_at: r.try_get(1).ctx("schedule run")?,
            started_at: r.try_get(2).ctx("schedule run")?,
            finished_at: r.try_get(3).ctx("schedule run")?,
            outcome: r.try_get(4).ctx("schedule run")?,
        }))
    }

    /// Up to `limit` live (not archived) contacts with ids after `after` (`""`: from the
    /// first), in id order, with their properties parsed (only id and properties are read).
    /// The next page starts after the last id of this one, so a pass holds one page in
    /// memory.
    ///
    /// # Errors
    /// A query error, or a stored document that is not JSON.
    pub async fn live_contact_records(
        &self,
        portal: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<StoredRecord>> {
        // The same keyset page as the simulation's scan, with the properties parsed.
        self.live_contacts_page(portal, after, limit)
            .await?
            .into_iter()
            .map(|r| {
                Ok(StoredRecord {
                    properties: serde_json::from_str(&r.properties).map_err(|source| {
                        Error::Corrupt {
                            what: "record properties",
                            source,
                        }
                    })?,
                    id: r.id,
                    created_at: None,
                    updated_at: 0,
                    archived: false,
                })
            })
            .collect()
    }
}
