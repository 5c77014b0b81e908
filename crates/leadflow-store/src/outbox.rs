//! The workflow engine's durable state: enrollments (who entered which workflow on which
//! trigger value) and the outbox of intended HubSpot writes.
//!
//! An enrollment and its intents are written in one transaction, before any HubSpot call;
//! the enrollment's key makes a second evaluation of the same trigger a no-op, and each
//! intent's key (workflow, contact, trigger, action) makes it unique. An intent moves
//! `pending` → `sending` (leased) → `done` / `skipped` / `dead`; one found `sending` with
//! an expired lease was interrupted, and its outcome must be read from HubSpot before any
//! second write.
//!
//! This module knows rows; what an action does is the engine's business.

use sqlx::Row;

use crate::error::{Context, Result};
use crate::records::now_ms;
use crate::store::Store;

/// An enrollment to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEnrollment {
    /// The workflow's key.
    pub workflow: String,
    /// The contact.
    pub contact_id: String,
    /// What enrolled it (the tag, the new value, ...), per the re-enrollment policy.
    pub trigger_value: String,
    /// The event that triggered it, when one did.
    pub event_seq: Option<i64>,
    /// When (unix ms).
    pub at: i64,
}

/// An intended HubSpot write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewIntent {
    /// Unique per (workflow, contact, trigger, action).
    pub key: String,
    /// The action's name (`write`, `create_deal`, ...).
    pub action: String,
    /// What to do, as JSON.
    pub payload: String,
    /// Its final state when it needs no call (`skipped`), else `pending`.
    pub state: String,
    /// Why it was skipped.
    pub note: Option<String>,
}

/// How an intent's attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// Finished: `done`, `skipped` or `dead`.
    Finish {
        /// The intent.
        id: i64,
        /// Its final state.
        state: String,
        /// HubSpot's answer, for `done`.
        result: Option<String>,
        /// Why, for `skipped` and `dead`.
        note: Option<String>,
    },
    /// To be attempted again at `run_at` (unix ms).
    Retry {
        /// The intent.
        id: i64,
        /// When.
        run_at: i64,
        /// What went wrong this time.
        error: String,
    },
}

/// A stored intent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intent {
    /// Row id.
    pub id: i64,
    /// Idempotency key.
    pub key: String,
    /// The workflow's key.
    pub workflow: String,
    /// The contact.
    pub contact_id: String,
    /// The action's name.
    pub action: String,
    /// What to do, as JSON.
    pub payload: String,
    /// `pending`, `sending`, `done`, `skipped` or `dead`.
    pub state: String,
    /// Attempts started.
    pub attempts: i32,
    /// What HubSpot answered (ids), as JSON.
    pub result: Option<String>,
    /// The last error, or why it was skipped.
    pub last_error: Option<String>,
    /// Created (unix ms).
    pub created_at: i64,
    /// Last change (unix ms).
    pub updated_at: i64,
    /// When claimed: whether an earlier attempt was interrupted with an unknown outcome.
    pub interrupted: bool,
}

/// A recorded enrollment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrollmentRow {
    /// The workflow's key.
    pub workflow: String,
    /// The contact.
    pub contact_id: String,
    /// What enrolled it.
    pub trigger_value: String,
    /// When (unix ms).
    pub enrolled_at: i64,
}

const INTENT_COLUMNS: &str = "id, key, workflow, contact_id, action, payload, state, attempts, result, last_error, created_at, updated_at";

fn intent(r: &sqlx::any::AnyRow, interrupted: bool) -> Result<Intent> {
    Ok(Intent {
        id: r.try_get(0).ctx("intent")?,
        key: r.try_get(1).ctx("intent")?,
        workflow: r.try_get(2).ctx("intent")?,
        contact_id: r.try_get(3).ctx("intent")?,
        action: r.try_get(4).ctx("intent")?,
        payload: r.try_get(5).ctx("intent")?,
        state: r.try_get(6).ctx("intent")?,
        attempts: r.try_get(7).ctx("intent")?,
        result: r.try_get(8).ctx("intent")?,
        last_error: r.try_get(9).ctx("intent")?,
        created_at: r.try_get(10).ctx("intent")?,
        updated_at: r.try_get(11).ctx("intent")?,
        interrupted,
    })
}

impl Store {
    /// Records an enrollment with its intents, in one transaction. Returns false (and
    /// writes nothing) when the enrollment exists already.
    ///
    /// # Errors
    /// A query error; nothing is written.
    pub async fn enroll(
        &self,
        portal: &str,
        enrollment: &NewEnrollment,
        intents: &[NewIntent],
    ) -> Result<bool> {
        let new = self
            .enroll_many(portal, &[(enrollment.clone(), intents.to_vec())])
            .await?;
        Ok(new.first().copied().unwrap_or(false))
    }

    /// Records enrollments with their intents, all in one transaction and a few
    /// statements (what a daily run over every contact needs): for each, whether it was
    /// new; the intents of one that existed already are not written.
    ///
    /// # Errors
    /// A query error; nothing is written.
    pub async fn enroll_many(
        &self,
        portal: &str,
        items: &[(NewEnrollment, Vec<NewIntent>)],
    ) -> Result<Vec<bool>> {
        use std::collections::BTreeSet;
        // Rows per statement: sqlx's SQLite driver looks parameters up by name at a cost
        // that grows with the square of their number (see `upsert_records`).
        const ROWS: usize = 20;
        let mut tx = self.pool.begin().await.ctx("begin")?;
        let mut inserted: BTreeSet<(String, String, String)> = BTreeSet::new();
        for chunk in items.chunks(ROWS) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = i * 6;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO workflow_enrollments (portal, workflow, contact_id, trigger_value, event_seq, enrolled_at) \
                 VALUES {} ON CONFLICT (portal, workflow, contact_id, trigger_value) DO NOTHING \
                 RETURNING workflow, contact_id, trigger_value",
                rows.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (e, _) in chunk {
                q = q
                    .bind(portal)
                    .bind(&e.workflow)
                    .bind(&e.contact_id)
                    .bind(&e.trigger_value)
                    .bind(e.event_seq)
                    .bind(e.at);
            }
            for r in q.fetch_all(&mut *tx).await.ctx("enroll")? {
                inserted.insert((
                    r.try_get(0).ctx("enrollment")?,
                    r.try_get(1).ctx("enrollment")?,
                    r.try_get(2).ctx("enrollment")?,
                ));
            }
        }
        // The first of several equal enrollments is the new one, as if recorded in turn.
        let new: Vec<bool> = items
            .iter()
            .map(|(e, _)| {
                inserted.remove(&(
                    e.workflow.clone(),
                    e.contact_id.clone(),
                    e.trigger_value.clone(),
                ))
            })
            .collect();
        let intents: Vec<(&NewEnrollment, &NewIntent)> = items
            .iter()
            .zip(&new)
            .filter(|(_, new)| **new)
            .flat_map(|((e, intents), _)| intents.iter().map(move |i| (e, i)))
            .collect();
        for chunk in intents.chunks(ROWS) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = i * 9;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${}, 0, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7,
                        b + 8,
                        b + 9,
                        b + 8,
                        b + 8
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO intents (portal, key, workflow, contact_id, action, payload, state, attempts, run_at, last_error, created_at, updated_at) \
                 VALUES {} ON CONFLICT (portal, key) DO NOTHING",
                rows.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (e, i) in chunk {
                q = q
                    .bind(portal)
                    .bind(&i.key)
                    .bind(&e.workflow)
                    .bind(&e.contact_id)
                    .bind(&i.action)
                    .bind(&i.payload)
                    .bind(&i.state)
                    .bind(e.at)
                    .bind(&i.note);
            }
            q.execute(&mut *tx).await.ctx("add intent")?;
        }
        tx.commit().await.ctx("commit")?;
        Ok(new)
    }

    /// Claims up to `limit` intents of `action` that are due, or whose attempt was
    /// interrupted (lease expired), leasing them until `now + lease_ms`.
    ///
    /// # Errors
    /// A query error.
    pub async fn claim_intents(
        &self,
        portal: &str,
        action: &str,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<Intent>> {
        // Several workers on PostgreSQL: each claims rows no other transaction holds, so
        // no intent is claimed twice. SQLite has one writer: its claims are serial.
        let lock = match self.backend() {
            crate::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            crate::Backend::Sqlite => "",
        };
        let mut tx = self.pool.begin().await.ctx("begin")?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {INTENT_COLUMNS} FROM intents WHERE portal = $1 AND action = $2 AND \
             ((state = 'pending' AND run_at <= $3) OR (state = 'sending' AND lease_until < $3)) ORDER BY id LIMIT $4{lock}"
        )))
        .bind(portal)
        .bind(action)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await
        .ctx("claim intents")?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let state: String = r.try_get(6).ctx("intent")?;
            let mut i = intent(r, state == "sending")?;
            i.attempts += 1;
            i.state = "sending".to_owned();
            out.push(i);
        }
        // One statement per 50 claimed (see `upsert_records` on statement sizes).
        for chunk in out.chunks(50) {
            let ids: Vec<String> = (0..chunk.len()).map(|k| format!("${}", k + 3)).collect();
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE intents SET state = 'sending', attempts = attempts + 1, lease_until = $1, updated_at = $2 \
                 WHERE id IN ({})",
                ids.join(", ")
            )))
            .bind(now + lease_ms)
            .bind(now);
            for i in chunk {
                q = q.bind(i.id);
            }
            q.execute(&mut *tx).await.ctx("claim intents")?;
        }
        tx.commit().await.ctx("commit")?;
        Ok(out)
    }

    /// Records how a batch's attempts ended, in one transaction: each intent finished
    /// (`done` with HubSpot's answer, `skipped` or `dead` with the reason) or put back for
    /// another attempt.
    ///
    /// # Errors
    /// A query error; nothing is recorded, and the intents' leases run out as after a
    /// crash.
    pub async fn settle_intents(&self, settlements: &[Settlement]) -> Result<()> {
        let now = now_ms();
        let mut tx = self.pool.begin().await.ctx("begin")?;
        for s in settlements {
            match s {
                Settlement::Finish {
                    id,
                    state,
                    result,
                    note,
                } => sqlx::query(
                    "UPDATE intents SET state = $2, result = $3, last_error = $4, lease_until = NULL, updated_at = $5 WHERE id = $1",
                )
                .bind(id)
                .bind(state)
                .bind(result)
                .bind(note)
                .bind(now),
                Settlement::Retry { id, run_at, error } => sqlx::query(
                    "UPDATE intents SET state = 'pending', run_at = $2, last_error = $3, lease_until = NULL, updated_at = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(run_at)
                .bind(error)
                .bind(now),
            }
            .execute(&mut *tx)
            .await
            .ctx("settle intent")?;
        }
        tx.commit().await.ctx("commit")?;
        Ok(())
    }

    /// A contact's intents, oldest first (its execution history).
    ///
    /// # Errors
    /// A query error.
    pub async fn intents_of(&self, portal: &str, contact_id: &str) -> Result<Vec<Intent>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {INTENT_COLUMNS} FROM intents WHERE portal = $1 AND contact_id = $2 ORDER BY id"
        )))
        .bind(portal)
        .bind(contact_id)
        .fetch_all(&self.pool)
        .await
        .ctx("read intents")?;
        rows.iter().map(|r| intent(r, false)).collect()
    }

    /// A contact's enrollments, oldest first.
    ///
    /// # Errors
    /// A query error.
    pub async fn workflow_enrollments_of(
        &self,
        portal: &str,
        contact_id: &str,
    ) -> Result<Vec<EnrollmentRow>> {
        let rows = sqlx::query(
            "SELECT workflow, contact_id, trigger_value, enrolled_at FROM workflow_enrollments \
             WHERE portal = $1 AND contact_id = $2 ORDER BY enrolled_at, workflow",
        )
        .bind(portal)
        .bind(contact_id)
        .fetch_all(&self.pool)
        .await
        .ctx("read enrollments")?;
        rows.iter()
            .map(|r| {
                Ok(EnrollmentRow {
                    workflow: r.try_get(0).ctx("enrollment")?,
                    contact_id: r.try_get(1).ctx("enrollment")?,
                    trigger_value: r.try_get(2).ctx("enrollment")?,
                    enrolled_at: r.try_get(3).ctx("enrollment")?,
                })
            })
            .collect()
    }

    /// Intents per (action, state): what the workflow execution success rate is computed from.
    ///
    /// # Errors
    /// A query error.
    pub async fn intent_counts(&self, portal: &str) -> Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT action, state, COUNT(*) FROM intents WHERE portal = $1 GROUP BY action, state ORDER BY action, state",
        )
        .bind(portal)
        .fetch_all(&self.pool)
        .await
        .ctx("count intents")?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0).ctx("count")?,
                    r.try_get(1).ctx("count")?,
                    r.try_get(2).ctx("count")?,
                ))
            })
            .collect()
    }

    /// Events after `seq`, oldest first: what the engine consumes.
    ///
    /// # Errors
    /// A query error.
    pub async fn events_after(
        &self,
        portal: &str,
        seq: i64,
        limit: i64,
    ) -> Result<Vec<crate::Event>> {
        let rows = sqlx::query(
            "SELECT seq, object_type, object_id, source, occurred_at, property, old_value, new_value FROM events \
             WHERE portal = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(portal)
        .bind(seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("read events")?;
        rows.iter().map(crate::records::event_row).collect()
    }

    /// Live contacts whose managed `column` equals `value`, with the date column `since`
    /// on or before `before` (`YYYY-MM-DD`): the time-based trigger's candidates.
    ///
    /// # Errors
    /// [`crate::Error::Url`] is never returned; a query error, or an unknown column.
    pub async fn contacts_holding(
        &self,
        portal: &str,
        column: &str,
        value: &str,
        since: &str,
        before: &str,
    ) -> Result<Vec<crate::StoredRecord>> {
        let known = |c: &str| crate::MANAGED_COLUMNS.iter().any(|(_, col)| *col == c);
        if !known(column) || !known(since) {
            return Err(crate::Error::UnknownColumn(format!("{column}/{since}")));
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, properties, created_at, updated_at, archived FROM records WHERE portal = $1 AND object_type = 'contacts' \
             AND archived = 0 AND {} ORDER BY id",
            holding_sql(column, since, 2)
        )))
        .bind(portal)
        .bind(value)
        .bind(before)
        .fetch_all(&self.pool)
        .await
        .ctx("read contacts")?;
        rows.iter()
            .map(|r| {
                let json: String = r.try_get(1).ctx("record")?;
                Ok(crate::StoredRecord {
                    id: r.try_get(0).ctx("record")?,
                    properties: serde_json::from_str(&json).map_err(|source| {
                        crate::Error::Corrupt {
                            what: "record properties",
                            source,
                        }
                    })?,
                    created_at: r.try_get(2).ctx("record")?,
                    updated_at: r.try_get(3).ctx("record")?,
                    archived: r.try_get::<i32, _>(4).ctx("record")? != 0,
                })
            })
            .collect()
    }
}

/// The time-based trigger's condition on a contact row, its value bound at `$n` and the
/// day at `$n+1`; `column` and `since` are managed columns, checked by the caller.
pub(crate) fn holding_sql(column: &str, since: &str, n: usize) -> String {
    format!(
        "{column} = ${n} AND {since} IS NOT NULL AND {since} <= ${}",
        n + 1
    )
}
