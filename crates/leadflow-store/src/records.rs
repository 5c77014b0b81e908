//! Records, the event log and sync cursors.

use std::collections::BTreeMap;

use leadflow_core::ObjectType;
use sqlx::Row;

use crate::error::{Context, Error, Result};
use crate::store::Store;

/// Properties kept in typed columns as well as in the JSON document (the spec's managed
/// contact properties, email and owner): reports filter and group on them, and every
/// change of one is appended to the event log.
pub const MANAGED_COLUMNS: [(&str, &str); 13] = [
    ("email", "email"),
    ("lead_source", "lead_source"),
    ("icp_type", "icp_type"),
    ("icp_fit_score", "icp_fit_score"),
    ("lead_score", "lead_score"),
    ("response_status", "response_status"),
    ("qualification_status", "qualification_status"),
    ("campaign_tag", "campaign_tag"),
    ("session_id", "session_id"),
    ("message_strategy", "message_strategy"),
    ("last_outreach_date", "last_outreach_date"),
    ("last_activity_date", "last_activity_date"),
    ("hubspot_owner_id", "owner_id"),
];

const NUMERIC: [&str; 2] = ["icp_fit_score", "lead_score"];

/// What the store holds of a record: properties, last change, archived.
type Stored = (BTreeMap<String, Option<String>>, i64, bool);

/// An event to append: record id, property, old value, new value, occurred at.
type PendingEvent<'a> = (
    &'a str,
    Option<&'static str>,
    Option<String>,
    Option<String>,
    i64,
);

/// A record as the store keeps it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoredRecord {
    /// HubSpot's id.
    pub id: String,
    /// Every property value HubSpot sent.
    pub properties: BTreeMap<String, Option<String>>,
    /// Creation time, unix ms.
    pub created_at: Option<i64>,
    /// Last change, unix ms: the newer version wins.
    pub updated_at: i64,
    /// Whether it is archived (deleted in HubSpot).
    pub archived: bool,
}

impl StoredRecord {
    /// A property's value, `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.properties
            .get(name)?
            .as_deref()
            .filter(|v| !v.is_empty())
    }
}

/// What an upsert did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpsertOutcome {
    /// Records new to the store.
    pub inserted: usize,
    /// Records changed.
    pub updated: usize,
    /// Records already stored as sent (a replayed page).
    pub unchanged: usize,
    /// Records older than what is stored, ignored.
    pub stale: usize,
    /// Events appended.
    pub events: usize,
}

/// One observed change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Order of observation.
    pub seq: i64,
    /// Object type.
    pub object_type: String,
    /// Record id.
    pub object_id: String,
    /// Where it was seen: `backfill`, `incremental`, `webhook`, `reconcile`, `import`, ….
    pub source: String,
    /// When it happened in HubSpot, unix ms.
    pub occurred_at: i64,
    /// The property, or `None` for creation and archival.
    pub property: Option<String>,
    /// The value before.
    pub old_value: Option<String>,
    /// The value after (`created` / `archived` for record events).
    pub new_value: Option<String>,
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Store {
    /// Stores a page of records in one transaction, and advances `cursor` (stream, value)
    /// in the same transaction. Replaying a page changes nothing; a version older than the
    /// stored one is ignored.
    ///
    /// # Errors
    /// A query error; the transaction is rolled back.
    pub async fn upsert_records(
        &self,
        portal: &str,
        object_type: ObjectType,
        records: &[StoredRecord],
        source: &str,
        cursor: Option<(&str, &str)>,
    ) -> Result<UpsertOutcome> {
        let mut out = UpsertOutcome::default();
        let observed = now_ms();
        let backfill = source.starts_with("backfill");
        let t = object_type.api_name();
        // The last version of each id in the page wins within the page.
        let mut page: Vec<&StoredRecord> = Vec::new();
        for r in records {
            match page.iter_mut().find(|p| p.id == r.id) {
                Some(p) if r.updated_at >= p.updated_at => *p = r,
                Some(_) => out.stale += 1,
                None => page.push(r),
            }
        }
        let mut tx = self.pool.begin().await.ctx("begin")?;
        // One read for the whole page.
        let mut existing: BTreeMap<String, Stored> = BTreeMap::new();
        for chunk in page.chunks(100) {
            let placeholders: Vec<String> =
                (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
            let sql = format!(
                "SELECT id, properties, updated_at, archived FROM records WHERE portal = $1 AND object_type = $2 AND id IN ({})",
                placeholders.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(portal).bind(t);
            for r in chunk {
                q = q.bind(&r.id);
            }
            for row in q.fetch_all(&mut *tx).await.ctx("read records")? {
                let json: String = row.try_get(1).ctx("read properties")?;
                let props = serde_json::from_str(&json).map_err(|source| Error::Corrupt {
                    what: "record properties",
                    source,
                })?;
                let archived: i32 = row.try_get(3).ctx("read archived")?;
                existing.insert(
                    row.try_get(0).ctx("read id")?,
                    (props, row.try_get(2).ctx("read updated_at")?, archived != 0),
                );
            }
        }
        let mut writes: Vec<&StoredRecord> = Vec::new();
        let mut events: Vec<PendingEvent<'_>> = Vec::new();
        for r in page {
            let old = existing.get(&r.id);
            if let Some((props, updated_at, archived)) = old {
                if *updated_at > r.updated_at {
                    out.stale += 1;
                    continue;
                }
                if *props == r.properties && *archived == r.archived {
                    out.unchanged += 1;
                    continue;
                }
            }
            let value = |name: &str| {
                r.properties
                    .get(name)
                    .cloned()
                    .flatten()
                    .filter(|v| !v.is_empty())
            };
            let num = |name: &str| value(name).and_then(|v| v.parse::<f64>().ok());
            match old {
                None => {
                    out.inserted += 1;
                    events.push((&r.id, None, None, Some("created".to_owned()), r.updated_at));
                    // A backfill describes what already was: its records' creation is logged,
                    // their initial values are in the record (and in no change).
                    if !backfill {
                        for (name, _) in MANAGED_COLUMNS {
                            if let Some(v) = value(name) {
                                events.push((&r.id, Some(name), None, Some(v), r.updated_at));
                            }
                        }
                    }
                }
                Some((props, _, was_archived)) => {
                    out.updated += 1;
                    for (name, _) in MANAGED_COLUMNS {
                        let before = props.get(name).cloned().flatten().filter(|v| !v.is_empty());
                        let after = value(name);
                        let same = before == after
                            || (NUMERIC.contains(&name)
                                && after.is_some()
                                && before.as_deref().and_then(|b| b.parse::<f64>().ok())
                                    == num(name));
                        if !same {
                            events.push((&r.id, Some(name), before, after, r.updated_at));
                        }
                    }
                    if r.archived != *was_archived {
                        events.push((
                            &r.id,
                            None,
                            None,
                            Some(if r.archived { "archived" } else { "restored" }.to_owned()),
                            r.updated_at,
                        ));
                    }
                }
            }
            writes.push(r);
        }
        // Statements of 10 records (210 parameters): sqlx's SQLite driver looks up each
        // parameter by name, at a cost that grows with the square of their number, so a
        // few mid-sized statements beat one large one.
        for chunk in writes.chunks(10) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let base = i * 21;
                    format!(
                        "({})",
                        (1..=21)
                            .map(|k| match k {
                                // Numbers go as text, cast by the database: sqlx's Any
                                // driver declares a NULL f64 as float4 on PostgreSQL, and a
                                // cached statement prepared with that NULL then refuses an
                                // 8-byte float in the next batch.
                                12 | 13 => format!("CAST(${} AS DOUBLE PRECISION)", base + k),
                                _ => format!("${}", base + k),
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO records (portal, object_type, id, properties, created_at, updated_at, archived, archived_at, \
                 email, lead_source, icp_type, icp_fit_score, lead_score, response_status, qualification_status, campaign_tag, \
                 session_id, message_strategy, last_outreach_date, last_activity_date, owner_id) VALUES {} \
                 ON CONFLICT (portal, object_type, id) DO UPDATE SET properties = excluded.properties, created_at = excluded.created_at, \
                 updated_at = excluded.updated_at, archived = excluded.archived, archived_at = excluded.archived_at, email = excluded.email, \
                 lead_source = excluded.lead_source, icp_type = excluded.icp_type, icp_fit_score = excluded.icp_fit_score, \
                 lead_score = excluded.lead_score, response_status = excluded.response_status, qualification_status = excluded.qualification_status, \
                 campaign_tag = excluded.campaign_tag, session_id = excluded.session_id, message_strategy = excluded.message_strategy, \
                 last_outreach_date = excluded.last_outreach_date, last_activity_date = excluded.last_activity_date, owner_id = excluded.owner_id",
                rows.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                let json =
                    serde_json::to_string(&r.properties).map_err(|source| Error::Corrupt {
                        what: "record properties",
                        source,
                    })?;
                let value = |name: &str| {
                    r.properties
                        .get(name)
                        .cloned()
                        .flatten()
                        .filter(|v| !v.is_empty())
                };
                let num = |name: &str| {
                    value(name)
                        .and_then(|v| v.parse::<f64>().ok())
                        .filter(|v| v.is_finite())
                        .map(|v| v.to_string())
                };
                q = q
                    .bind(portal)
                    .bind(t)
                    .bind(&r.id)
                    .bind(json)
                    .bind(r.created_at)
                    .bind(r.updated_at)
                    .bind(i32::from(r.archived))
                    .bind(r.archived.then_some(r.updated_at))
                    .bind(value("email"))
                    .bind(value("lead_source"))
                    .bind(value("icp_type"))
                    .bind(num("icp_fit_score"))
                    .bind(num("lead_score"))
                    .bind(value("response_status"))
                    .bind(value("qualification_status"))
                    .bind(value("campaign_tag"))
                    .bind(value("session_id"))
                    .bind(value("message_strategy"))
                    .bind(value("last_outreach_date"))
                    .bind(value("last_activity_date"))
                    .bind(value("hubspot_owner_id"));
            }
            q.execute(&mut *tx).await.ctx("write records")?;
        }
        for chunk in events.chunks(25) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let base = i * 9;
                    format!(
                        "({})",
                        (1..=9)
                            .map(|k| format!("${}", base + k))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO events (portal, object_type, object_id, source, occurred_at, observed_at, property, old_value, new_value) VALUES {}",
                rows.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, property, old_value, new_value, at) in chunk {
                q = q
                    .bind(portal)
                    .bind(t)
                    .bind(*id)
                    .bind(source)
                    .bind(*at)
                    .bind(observed)
                    .bind(*property)
                    .bind(old_value.clone())
                    .bind(new_value.clone());
            }
            q.execute(&mut *tx).await.ctx("append events")?;
            out.events += chunk.len();
        }
        if let Some((stream, value)) = cursor {
            sqlx::query(
                "INSERT INTO sync_cursors (portal, stream, cursor, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (portal, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
            )
            .bind(portal)
            .bind(stream)
            .bind(value)
            .bind(observed)
            .execute(&mut *tx)
            .await
            .ctx("advance cursor")?;
        }
        tx.commit().await.ctx("commit")?;
        Ok(out)
    }

    /// A stored record.
    ///
    /// # Errors
    /// A query error.
    pub async fn record(
        &self,
        portal: &str,
        object_type: ObjectType,
        id: &str,
    ) -> Result<Option<StoredRecord>> {
        let row = sqlx::query("SELECT id, properties, created_at, updated_at, archived FROM records WHERE portal = $1 AND object_type = $2 AND id = $3")
            .bind(portal)
            .bind(object_type.api_name())
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .ctx("read record")?;
        let Some(row) = row else { return Ok(None) };
        let json: String = row.try_get(1).ctx("read properties")?;
        let archived: i32 = row.try_get(4).ctx("read archived")?;
        Ok(Some(StoredRecord {
            id: row.try_get(0).ctx("read id")?,
            properties: serde_json::from_str(&json).map_err(|source| Error::Corrupt {
                what: "record properties",
                source,
            })?,
            created_at: row.try_get(2).ctx("read created_at")?,
            updated_at: row.try_get(3).ctx("read updated_at")?,
            archived: archived != 0,
        }))
    }

    /// The contact with this email (its typed, indexed column), the live one before an
    /// archived or merged one. HubSpot stores emails in lower case; the email is looked up
    /// as given and in lower case.
    ///
    /// # Errors
    /// A query error.
    pub async fn contact_by_email(
        &self,
        portal: &str,
        email: &str,
    ) -> Result<Option<StoredRecord>> {
        let email = email.trim();
        let row = sqlx::query(
            "SELECT id FROM records WHERE portal = $1 AND object_type = 'contacts' AND email IN ($2, $3) \
             ORDER BY archived, updated_at DESC, id LIMIT 1",
        )
        .bind(portal)
        .bind(email)
        .bind(email.to_lowercase())
        .fetch_optional(&self.pool)
        .await
        .ctx("find contact by email")?;
        let Some(row) = row else { return Ok(None) };
        let id: String = row.try_get(0).ctx("read id")?;
        self.record(portal, ObjectType::Contacts, &id).await
    }

    /// How many records of a type are stored (archived ones only when asked).
    ///
    /// # Errors
    /// A query error.
    pub async fn count(
        &self,
        portal: &str,
        object_type: ObjectType,
        archived: bool,
    ) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM records WHERE portal = $1 AND object_type = $2 AND archived = $3",
        )
        .bind(portal)
        .bind(object_type.api_name())
        .bind(i32::from(archived))
        .fetch_one(&self.pool)
        .await
        .ctx("count records")?;
        Ok(n.max(0) as u64)
    }

    /// A sync cursor.
    ///
    /// # Errors
    /// A query error.
    pub async fn cursor(&self, portal: &str, stream: &str) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT cursor FROM sync_cursors WHERE portal = $1 AND stream = $2")
            .bind(portal)
            .bind(stream)
            .fetch_optional(&self.pool)
            .await
            .ctx("read cursor")
    }

    /// Sets a sync cursor outside a page upsert.
    ///
    /// # Errors
    /// A query error.
    pub async fn set_cursor(&self, portal: &str, stream: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO sync_cursors (portal, stream, cursor, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (portal, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
        )
        .bind(portal)
        .bind(stream)
        .bind(value)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .ctx("set cursor")?;
        Ok(())
    }

    /// Every cursor of a portal: `(stream, value, updated_at)`.
    ///
    /// # Errors
    /// A query error.
    pub async fn cursors(&self, portal: &str) -> Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT stream, cursor, updated_at FROM sync_cursors WHERE portal = $1 ORDER BY stream",
        )
        .bind(portal)
        .fetch_all(&self.pool)
        .await
        .ctx("read cursors")?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.try_get(0).ctx("cursor")?,
                    r.try_get(1).ctx("cursor")?,
                    r.try_get(2).ctx("cursor")?,
                ))
            })
            .collect()
    }

    /// The events of one record, oldest first.
    ///
    /// # Errors
    /// A query error.
    pub async fn events_of(
        &self,
        portal: &str,
        object_type: ObjectType,
        id: &str,
    ) -> Result<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT seq, object_type, object_id, source, occurred_at, property, old_value, new_value FROM events \
             WHERE portal = $1 AND object_type = $2 AND object_id = $3 ORDER BY seq",
        )
        .bind(portal)
        .bind(object_type.api_name())
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .ctx("read events")?;
        rows.iter().map(event_row).collect()
    }

    /// Marks records gone from the portal (deleted, or merged into another record) unless
    /// the store holds a version newer than `at`; logs `archived` or `merged:<id>`.
    /// Returns how many records changed.
    ///
    /// # Errors
    /// A query error; nothing changes.
    pub async fn mark_gone(
        &self,
        portal: &str,
        object_type: ObjectType,
        gone: &[Gone],
        source: &str,
    ) -> Result<usize> {
        let t = object_type.api_name();
        let mut tx = self.pool.begin().await.ctx("begin")?;
        let mut changed = 0;
        for g in gone {
            let done = sqlx::query(
                "UPDATE records SET archived = 1, archived_at = $4, updated_at = $4, merged_into = $5 \
                 WHERE portal = $1 AND object_type = $2 AND id = $3 AND archived = 0 AND updated_at <= $4",
            )
            .bind(portal)
            .bind(t)
            .bind(&g.id)
            .bind(g.at)
            .bind(&g.merged_into)
            .execute(&mut *tx)
            .await
            .ctx("mark gone")?;
            if done.rows_affected() == 0 {
                continue;
            }
            changed += 1;
            let what = match &g.merged_into {
                Some(into) => format!("merged:{into}"),
                None => "archived".to_owned(),
            };
            append_event(
                &mut tx,
                portal,
                &LoggedEvent {
                    object_type: t,
                    object_id: &g.id,
                    source,
                    occurred_at: g.at,
                    property: None,
                    old_value: None,
                    new_value: Some(&what),
                },
            )
            .await?;
        }
        tx.commit().await.ctx("commit")?;
        Ok(changed)
    }

    /// Where a merged record went, following merges.
    ///
    /// # Errors
    /// A query error.
    pub async fn merged_into(
        &self,
        portal: &str,
        object_type: ObjectType,
        id: &str,
    ) -> Result<Option<String>> {
        let mut current = id.to_owned();
        let mut last = None;
        for _ in 0..16 {
            let next: Option<Option<String>> = sqlx::query_scalar(
                "SELECT merged_into FROM records WHERE portal = $1 AND object_type = $2 AND id = $3",
            )
            .bind(portal)
            .bind(object_type.api_name())
            .bind(&current)
            .fetch_optional(&self.pool)
            .await
            .ctx("read merged_into")?;
            match next.flatten() {
                Some(n) => {
                    current = n.clone();
                    last = Some(n);
                }
                None => break,
            }
        }
        Ok(last)
    }

    /// Every stored record of a type as `(id, updated_at, archived)`, by id: what the
    /// reconciliation sweep compares with the portal.
    ///
    /// # Errors
    /// A query error.
    pub async fn versions(
        &self,
        portal: &str,
        object_type: ObjectType,
    ) -> Result<Vec<(String, i64, bool)>> {
        let rows = sqlx::query(
            "SELECT id, updated_at, archived FROM records WHERE portal = $1 AND object_type = $2 ORDER BY id",
        )
        .bind(portal)
        .bind(object_type.api_name())
        .fetch_all(&self.pool)
        .await
        .ctx("read versions")?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.try_get(0).ctx("version")?,
                    r.try_get(1).ctx("version")?,
                    r.try_get::<i32, _>(2).ctx("version")? != 0,
                ))
            })
            .collect()
    }

    /// The ids of the live (not archived) records of a type.
    ///
    /// # Errors
    /// A query error.
    pub async fn live_ids(&self, portal: &str, object_type: ObjectType) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT id FROM records WHERE portal = $1 AND object_type = $2 AND archived = 0 ORDER BY id",
        )
        .bind(portal)
        .bind(object_type.api_name())
        .fetch_all(&self.pool)
        .await
        .ctx("read ids")
    }
}

/// A record gone from the portal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gone {
    /// Its id.
    pub id: String,
    /// When it went (unix ms).
    pub at: i64,
    /// The record it was merged into, if it was merged.
    pub merged_into: Option<String>,
}

/// An event row read as `seq, object_type, object_id, source, occurred_at, property,
/// old_value, new_value`.
pub(crate) fn event_row(r: &sqlx::any::AnyRow) -> Result<Event> {
    Ok(Event {
        seq: r.try_get(0).ctx("event")?,
        object_type: r.try_get(1).ctx("event")?,
        object_id: r.try_get(2).ctx("event")?,
        source: r.try_get(3).ctx("event")?,
        occurred_at: r.try_get(4).ctx("event")?,
        property: r.try_get(5).ctx("event")?,
        old_value: r.try_get(6).ctx("event")?,
        new_value: r.try_get(7).ctx("event")?,
    })
}

/// One event appended on its own (outside a page upsert, which appends in bulk).
pub(crate) struct LoggedEvent<'a> {
    pub(crate) object_type: &'a str,
    pub(crate) object_id: &'a str,
    pub(crate) source: &'a str,
    pub(crate) occurred_at: i64,
    pub(crate) property: Option<&'a str>,
    pub(crate) old_value: Option<&'a str>,
    pub(crate) new_value: Option<&'a str>,
}

/// Appends one event to the log, observed now.
pub(crate) async fn append_event(
    conn: &mut sqlx::AnyConnection,
    portal: &str,
    e: &LoggedEvent<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (portal, object_type, object_id, source, occurred_at, observed_at, property, old_value, new_value) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(portal)
    .bind(e.object_type)
    .bind(e.object_id)
    .bind(e.source)
    .bind(e.occurred_at)
    .bind(now_ms())
    .bind(e.property)
    .bind(e.old_value)
    .bind(e.new_value)
    .execute(&mut *conn)
    .await
    .ctx("append event")?;
    Ok(())
}
