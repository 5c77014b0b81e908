//! What the scheduler keeps (`schedule_runs`: one row per claimed slot;
//! `report_deliveries`: archived reports waiting to be mailed) and the reads the daily
//! cleanup walks: live contacts and tasks page by page, and for a page of contacts the
//! tasks linked to them and their sequence enrollments.
//!
//! A slot is claimed by inserting its row: the primary key (portal, schedule, slot) makes
//! a second worker's insert do nothing, so whoever's insert took runs the slot and nobody
//! else does. A delivery is claimed by a lease set in a conditional update. This module
//! knows rows; cron expressions, what a job does and how mail is sent are the automation
//! crate's business.

use leadflow_core::ObjectType;
use sqlx::Row;

use crate::error::{Context, Error, Result};
use crate::records::StoredRecord;
use crate::scan::IdRange;
use crate::store::Store;

/// An archived report waiting to be mailed, or mailed, or given up on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportDelivery {
    /// The schedule that made the report.
    pub schedule: String,
    /// The slot it was made for (unix ms).
    pub slot_at: i64,
    /// The directory the report is archived in.
    pub dir: String,
    /// `pending`, `sent` or `failed` (given up).
    pub state: String,
    /// Attempts made (a claimed attempt counts).
    pub attempts: i32,
    /// When the next attempt is due (unix ms).
    pub next_at: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was sent (unix ms).
    pub sent_at: Option<i64>,
}

const DELIVERY_COLUMNS: &str =
    "schedule, slot_at, dir, state, attempts, next_at, last_error, sent_at";

fn delivery_row(r: &sqlx::any::AnyRow) -> Result<ReportDelivery> {
    Ok(ReportDelivery {
        schedule: r.try_get(0).ctx("report delivery")?,
        slot_at: r.try_get(1).ctx("report delivery")?,
        dir: r.try_get(2).ctx("report delivery")?,
        state: r.try_get(3).ctx("report delivery")?,
        attempts: r.try_get(4).ctx("report delivery")?,
        next_at: r.try_get(5).ctx("report delivery")?,
        last_error: r.try_get(6).ctx("report delivery")?,
        sent_at: r.try_get(7).ctx("report delivery")?,
    })
}

/// A record row read as `id, properties, created_at, updated_at, archived` (offset `at`).
fn record_row(r: &sqlx::any::AnyRow, at: usize) -> Result<StoredRecord> {
    let json: String = r.try_get(at + 1).ctx("record")?;
    let archived: i32 = r.try_get(at + 4).ctx("record")?;
    Ok(StoredRecord {
        id: r.try_get(at).ctx("record")?,
        properties: serde_json::from_str(&json).map_err(|source| Error::Corrupt {
            what: "record properties",
            source,
        })?,
        created_at: r.try_get(at + 2).ctx("record")?,
        updated_at: r.try_get(at + 3).ctx("record")?,
        archived: archived != 0,
    })
}

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

    /// Up to `limit` live records of `object_type` with ids after `after` (`""`: from the
    /// first), in id order, whole (properties, created and updated times). The daily
    /// cleanup walks the tasks with it, one page in memory.
    ///
    /// # Errors
    /// A query error, or a stored document that is not JSON.
    pub async fn live_records_page(
        &self,
        portal: &str,
        object_type: ObjectType,
        after: &str,
        limit: i64,
    ) -> Result<Vec<StoredRecord>> {
        let rows = sqlx::query(
            "SELECT id, properties, created_at, updated_at, archived FROM records \
             WHERE portal = $1 AND object_type = $2 AND archived = 0 AND id > $3 ORDER BY id LIMIT $4",
        )
        .bind(portal)
        .bind(object_type.api_name())
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("read records")?;
        rows.iter().map(|r| record_row(r, 0)).collect()
    }

    /// The tasks (archived ones too: they were activity) linked to the contacts in
    /// `range`, links read from either side: (contact id, task), in no particular order; a
    /// task linked from both sides comes twice.
    ///
    /// # Errors
    /// A query error, or a stored document that is not JSON.
    pub async fn linked_tasks_in(
        &self,
        portal: &str,
        range: IdRange<'_>,
    ) -> Result<Vec<(String, StoredRecord)>> {
        let cols = "t.id, t.properties, t.created_at, t.updated_at, t.archived";
        let sql = format!(
            "SELECT a.from_id, {cols} FROM associations a JOIN records t \
               ON t.portal = a.portal AND t.object_type = 'tasks' AND t.id = a.to_id \
             WHERE a.portal = $1 AND a.from_type = 'contacts' AND a.to_type = 'tasks' AND {} \
             UNION ALL \
             SELECT a.to_id, {cols} FROM associations a JOIN records t \
               ON t.portal = a.portal AND t.object_type = 'tasks' AND t.id = a.from_id \
             WHERE a.portal = $1 AND a.to_type = 'contacts' AND a.from_type = 'tasks' AND {}",
            range.sql("a.from_id", 2),
            range.sql("a.to_id", 2),
        );
        let rows = range
            .bind(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(portal))
            .fetch_all(&self.pool)
            .await
            .ctx("read linked tasks")?;
        rows.iter()
            .map(|r| Ok((r.try_get(0).ctx("linked task")?, record_row(r, 1)?)))
            .collect()
    }

    /// The latest sequence enrollment (unix ms) of each contact in `range` that has one.
    ///
    /// # Errors
    /// A query error.
    pub async fn sequence_enrolled_in(
        &self,
        portal: &str,
        range: IdRange<'_>,
    ) -> Result<Vec<(String, i64)>> {
        let sql = format!(
            "SELECT contact_id, MAX(enrolled_at) FROM sequence_enrollments WHERE portal = $1 AND {} \
             GROUP BY contact_id",
            range.sql("contact_id", 2)
        );
        let rows = range
            .bind(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(portal))
            .fetch_all(&self.pool)
            .await
            .ctx("read sequence enrollments")?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0).ctx("enrollment")?,
                    r.try_get(1).ctx("enrollment")?,
                ))
            })
            .collect()
    }

    /// Remembers an archived report to mail: pending, due at `at`. A second call for the
    /// same slot changes nothing. Returns whether it was new.
    ///
    /// # Errors
    /// A query error.
    pub async fn add_report_delivery(
        &self,
        portal: &str,
        schedule: &str,
        slot_at: i64,
        dir: &str,
        at: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO report_deliveries (portal, schedule, slot_at, dir, state, attempts, next_at, created_at) \
             VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) ON CONFLICT (portal, schedule, slot_at) DO NOTHING",
        )
        .bind(portal)
        .bind(schedule)
        .bind(slot_at)
        .bind(dir)
        .bind(at)
        .execute(&self.pool)
        .await
        .ctx("add report delivery")?;
        Ok(done.rows_affected() == 1)
    }

    /// Claims the pending deliveries due at `now` whose lease (if any) has expired,
    /// leasing each until `now + lease_ms` and counting the attempt.
    ///
    /// # Transactions and locks
    /// Each row is claimed by its own conditional `UPDATE` (pending, due, lease expired):
    /// of concurrent claimers exactly one sees the row updated, and only it sends.
    ///
    /// # Errors
    /// A query error.
    pub async fn claim_report_deliveries(
        &self,
        portal: &str,
        now: i64,
        lease_ms: i64,
    ) -> Result<Vec<ReportDelivery>> {
        let due = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM report_deliveries WHERE portal = $1 AND state = 'pending' \
             AND next_at <= $2 AND (lease_until IS NULL OR lease_until < $2) ORDER BY next_at"
        )))
        .bind(portal)
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .ctx("read report deliveries")?;
        let mut claimed = Vec::new();
        for r in &due {
            let mut d = delivery_row(r)?;
            let done = sqlx::query(
                "UPDATE report_deliveries SET lease_until = $4, attempts = attempts + 1 \
                 WHERE portal = $1 AND schedule = $2 AND slot_at = $3 AND state = 'pending' \
                 AND next_at <= $5 AND (lease_until IS NULL OR lease_until < $5)",
            )
            .bind(portal)
            .bind(&d.schedule)
            .bind(d.slot_at)
            .bind(now + lease_ms)
            .bind(now)
            .execute(&self.pool)
            .await
            .ctx("claim report delivery")?;
            if done.rows_affected() == 1 {
                d.attempts += 1;
                claimed.push(d);
            }
        }
        Ok(claimed)
    }

    /// Settles a claimed delivery: `sent` (at `at`), `failed` (given up, with `error`), or
    /// back to `pending` with its next attempt at `next_at`.
    ///
    /// # Errors
    /// A query error.
    pub async fn settle_report_delivery(
        &self,
        portal: &str,
        (schedule, slot_at): (&str, i64),
        state: &str,
        (at, next_at): (i64, i64),
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE report_deliveries SET state = $4, lease_until = NULL, next_at = $6, last_error = $7, \
             sent_at = CASE WHEN $4 = 'sent' THEN $5 ELSE sent_at END \
             WHERE portal = $1 AND schedule = $2 AND slot_at = $3",
        )
        .bind(portal)
        .bind(schedule)
        .bind(slot_at)
        .bind(state)
        .bind(at)
        .bind(next_at)
        .bind(error)
        .execute(&self.pool)
        .await
        .ctx("settle report delivery")?;
        Ok(())
    }

    /// One slot's delivery.
    ///
    /// # Errors
    /// A query error.
    pub async fn report_delivery(
        &self,
        portal: &str,
        schedule: &str,
        slot_at: i64,
    ) -> Result<Option<ReportDelivery>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM report_deliveries WHERE portal = $1 AND schedule = $2 AND slot_at = $3"
        )))
        .bind(portal)
        .bind(schedule)
        .bind(slot_at)
        .fetch_optional(&self.pool)
        .await
        .ctx("read report delivery")?
        .as_ref()
        .map(delivery_row)
        .transpose()
    }

    /// When the earliest pending delivery is due (unix ms), for the scheduler's wake-up.
    ///
    /// # Errors
    /// A query error.
    pub async fn next_report_delivery_at(&self, portal: &str) -> Result<Option<i64>> {
        sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MIN(next_at) FROM report_deliveries WHERE portal = $1 AND state = 'pending'",
        )
        .bind(portal)
        .fetch_one(&self.pool)
        .await
        .ctx("read report deliveries")
    }
}
