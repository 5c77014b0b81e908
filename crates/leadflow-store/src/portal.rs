//! The portal's reference data (owners, pipeline stages, sequences, lists and their
//! memberships, sequence enrollments), associations between records, and the outcome of
//! every sync run (the spec's "data sync success rate" is computed from these rows).
//!
//! Reference data is small and replaced whole per sync; associations are replaced per
//! record by the association sweep and changed one link at a time by webhooks.

use std::collections::BTreeSet;
use std::str::FromStr;

use leadflow_core::ObjectType;
use sqlx::Row;

use crate::error::{Context, Result};
use crate::records::{LoggedEvent, append_event};
use crate::store::Store;

/// An owner: the value of `hubspot_owner_id`, and the user that sequences send as.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnerRow {
    /// The owner id.
    pub id: String,
    /// The user id (sequence enrollment needs it).
    pub user_id: Option<i64>,
    /// The owner's email.
    pub email: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Deactivated.
    pub archived: bool,
}

/// One stage of one pipeline.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StageRow {
    /// The pipeline's id.
    pub pipeline_id: String,
    /// The pipeline's label.
    pub pipeline_label: String,
    /// The stage's id (the value of `dealstage`).
    pub stage_id: String,
    /// The stage's label.
    pub label: String,
    /// Its position.
    pub display_order: i32,
    /// Deals: the win probability, 0 to 1.
    pub probability: Option<f64>,
    /// Deals: whether the stage closes the deal.
    pub is_closed: bool,
}

/// A sequence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SequenceRow {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The user that owns it.
    pub user_id: Option<String>,
}

/// A list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListRow {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The object type id of its members (`0-1` contacts).
    pub object_type_id: String,
    /// `MANUAL`, `DYNAMIC` or `SNAPSHOT`.
    pub processing_type: String,
}

/// A link between two records, as seen from one of them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Link {
    /// The record the link is read from.
    pub from_id: String,
    /// The other record.
    pub to_id: String,
    /// HubSpot's association type id.
    pub type_id: i32,
}

/// One sync stream's runs over a period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncRunStats {
    /// The stream (`contacts.incremental`, `webhooks`, ...).
    pub stream: String,
    /// Runs that finished.
    pub ok: i64,
    /// Runs that failed.
    pub failed: i64,
    /// Records handled by the successful runs.
    pub records: i64,
    /// When the last successful run finished (unix ms).
    pub last_ok_at: Option<i64>,
    /// The last failure's message.
    pub last_error: Option<String>,
}

fn flag(b: bool) -> i32 {
    i32::from(b)
}

impl Store {
    /// Replaces the portal's owners.
    ///
    /// # Errors
    /// A query error; nothing changes.
    pub async fn replace_owners(&self, portal: &str, owners: &[OwnerRow]) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        sqlx::query("DELETE FROM owners WHERE portal = $1")
            .bind(portal)
            .execute(&mut *tx)
            .await
            .ctx("replace owners")?;
        for o in owners {
            sqlx::query(
                "INSERT INTO owners (portal, id, user_id, email, first_name, last_name, archived) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(portal)
            .bind(&o.id)
            .bind(o.user_id)
            .bind(&o.email)
            .bind(&o.first_name)
            .bind(&o.last_name)
            .bind(flag(o.archived))
            .execute(&mut *tx)
            .await
            .ctx("replace owners")?;
        }
        tx.commit().await.ctx("commit")
    }

    /// The portal's owners, by id.
    ///
    /// # Errors
    /// A query error.
    pub async fn owners(&self, portal: &str) -> Result<Vec<OwnerRow>> {
        let rows = sqlx::query(
            "SELECT id, user_id, email, first_name, last_name, archived FROM owners WHERE portal = $1 ORDER BY id",
        )
        .bind(portal)
        .fetch_all(&self.pool)
        .await
        .ctx("read owners")?;
        rows.into_iter()
            .map(|r| {
                Ok(OwnerRow {
                    id: r.try_get(0).ctx("owner")?,
                    user_id: r.try_get(1).ctx("owner")?,
                    email: r.try_get(2).ctx("owner")?,
                    first_name: r.try_get(3).ctx("owner")?,
                    last_name: r.try_get(4).ctx("owner")?,
                    archived: r.try_get::<i32, _>(5).ctx("owner")? != 0,
                })
            })
            .collect()
    }

    /// Replaces the pipelines and stages of an object type.
    ///
    /// # Errors
    /// A query error; nothing changes.
    pub async fn replace_stages(
        &self,
        portal: &str,
        object_type: ObjectType,
        stages: &[StageRow],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        sqlx::query("DELETE FROM pipeline_stages WHERE portal = $1 AND object_type = $2")
            .bind(portal)
            .bind(object_type.api_name())
            .execute(&mut *tx)
            .await
            .ctx("replace stages")?;
        for s in stages {
            sqlx::query(
                "INSERT INTO pipeline_stages (portal, object_type, pipeline_id, pipeline_label, stage_id, label, display_order, probability, is_closed) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, CAST($8 AS DOUBLE PRECISION), $9)",
            )
            .bind(portal)
            .bind(object_type.api_name())
            .bind(&s.pipeline_id)
            .bind(&s.pipeline_label)
            .bind(&s.stage_id)
            .bind(&s.label)
            .bind(s.display_order)
            // As text: sqlx's Any driver declares a NULL f64 as float4 on PostgreSQL, and
            // the cached statement then refuses the next stage's 8-byte probability.
            .bind(
                s.probability
                    .filter(|p| p.is_finite())
                    .map(|p| p.to_string()),
            )
            .bind(flag(s.is_closed))
            .execute(&mut *tx)
            .await
            .ctx("replace stages")?;
        }
        tx.commit().await.ctx("commit")
    }

    /// The stages of an object type's pipelines, in pipeline then display order.
    ///
    /// # Errors
    /// A query error.
    pub async fn stages(&self, portal: &str, object_type: ObjectType) -> Result<Vec<StageRow>> {
        let rows = sqlx::query(
            "SELECT pipeline_id, pipeline_label, stage_id, label, display_order, probability, is_closed FROM pipeline_stages \
             WHERE portal = $1 AND object_type = $2 ORDER BY pipeline_id, display_order, stage_id",
        )
        .bind(portal)
        .bind(object_type.api_name())
        .fetch_all(&self.pool)
        .await
        .ctx("read stages")?;
        rows.into_iter()
            .map(|r| {
                Ok(StageRow {
                    pipeline_id: r.try_get(0).ctx("stage")?,
                    pipeline_label: r.try_get(1).ctx("stage")?,
                    stage_id: r.try_get(2).ctx("stage")?,
                    label: r.try_get(3).ctx("stage")?,
                    display_order: r.try_get(4).ctx("stage")?,
                    probability: r.try_get(5).ctx("stage")?,
                    is_closed: r.try_get::<i32, _>(6).ctx("stage")? != 0,
                })
            })
            .collect()
    }

    /// Replaces the portal's sequences.
    ///
    /// # Errors
    /// A query error; nothing changes.
    pub async fn replace_sequences(&self, portal: &str, sequences: &[SequenceRow]) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        sqlx::query("DELETE FROM sequences WHERE portal = $1")
            .bind(portal)
            .execute(&mut *tx)
            .await
            .ctx("replace sequences")?;
        for s in sequences {
            sqlx::query(
                "INSERT INTO sequences (portal, id, name, user_id) VALUES ($1, $2, $3, $4)",
            )
            .bind(portal)
            .bind(&s.id)
            .bind(&s.name)
            .bind(&s.user_id)
            .execute(&mut *tx)
            .await
            .ctx("replace sequences")?;
        }
        tx.commit().await.ctx("commit")
    }

    /// The portal's sequences, by name.
    ///
    /// # Errors
    /// A query error.
    pub async fn sequences(&self, portal: &str) -> Result<Vec<SequenceRow>> {
        let rows = sqlx::query(
            "SELECT id, name, user_id FROM sequences WHERE portal = $1 ORDER BY name, id",
        )
        .bind(portal)
        .fetch_all(&self.pool)
        .await
        .ctx("read sequences")?;
        rows.into_iter()
            .map(|r| {
                Ok(SequenceRow {
                    id: r.try_get(0).ctx("sequence")?,
                    name: r.try_get(1).ctx("sequence")?,
                    user_id: r.try_get(2).ctx("sequence")?,
                })
            })
            .collect()
    }

    /// Records that a contact is enrolled in a sequence (a second record of the same pair
    /// changes nothing). Returns whether it was new.
    ///
    /// # Errors
    /// A query error.
    pub async fn record_enrollment(
        &self,
        portal: &str,
        contact_id: &str,
        sequence_id: &str,
        enrollment_id: Option<&str>,
        enrolled_at: i64,
        source: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO sequence_enrollments (portal, contact_id, sequence_id, enrollment_id, enrolled_at, source) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (portal, contact_id, sequence_id) DO NOTHING",
        )
        .bind(portal)
        .bind(contact_id)
        .bind(sequence_id)
        .bind(enrollment_id)
        .bind(enrolled_at)
        .bind(source)
        .execute(&self.pool)
        .await
        .ctx("record enrollment")?;
        Ok(done.rows_affected() > 0)
    }

    /// The sequences a contact is known to be enrolled in.
    ///
    /// # Errors
    /// A query error.
    pub async fn enrollments_of(&self, portal: &str, contact_id: &str) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT sequence_id FROM sequence_enrollments WHERE portal = $1 AND contact_id = $2 ORDER BY sequence_id",
        )
        .bind(portal)
        .bind(contact_id)
        .fetch_all(&self.pool)
        .await
        .ctx("read enrollments")
    }

    /// Replaces the portal's lists (memberships of lists that are gone go too).
    ///
    /// # Errors
    /// A query error; nothing changes.
    pub async fn replace_lists(&self, portal: &str, lists: &[ListRow]) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        sqlx::query("DELETE FROM lists WHERE portal = $1")
            .bind(portal)
            .execute(&mut *tx)
            .await
            .ctx("replace lists")?;
        for l in lists {
            sqlx::query(
                "INSERT INTO lists (portal, id, name, object_type_id, processing_type) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(portal)
            .bind(&l.id)
            .bind(&l.name)
            .bind(&l.object_type_id)
            .bind(&l.processing_type)
            .execute(&mut *tx)
            .await
            .ctx("replace lists")?;
        }
        sqlx::query(
            "DELETE FROM list_memberships WHERE portal = $1 AND list_id NOT IN (SELECT id FROM lists WHERE portal = $1)",
        )
        .bind(portal)
        .execute(&mut *tx)
        .await
        .ctx("replace lists")?;
        tx.commit().await.ctx("commit")
    }

    /// The portal's lists, by name.
    ///
    /// # Errors
    /// A query error.
    pub async fn lists(&self, portal: &str) -> Result<Vec<ListRow>> {
        let rows = sqlx::query(
            "SELECT id, name, object_type_id, processing_type FROM lists WHERE portal = $1 ORDER BY name, id",
        )
        .bind(portal)
        .fetch_all(&self.pool)
        .await
        .ctx("read lists")?;
        rows.into_iter()
            .map(|r| {
                Ok(ListRow {
                    id: r.try_get(0).ctx("list")?,
                    name: r.try_get(1).ctx("list")?,
                    object_type_id: r.try_get(2).ctx("list")?,
                    processing_type: r.try_get(3).ctx("list")?,
                })
            })
            .collect()
    }

    /// Replaces a list's members; returns the record ids added and removed, and logs each
    /// as an event on the record (`list:<id>`, the list's name as new or old value), which
    /// is how a "tagged" trigger sees a contact added to a manual list.
    ///
    /// # Errors
    /// A query error; nothing changes.
    pub async fn replace_list_members(
        &self,
        portal: &str,
        list: &ListRow,
        members: &[String],
    ) -> Result<(Vec<String>, Vec<String>)> {
        let list_id = list.id.as_str();
        let member_type =
            ObjectType::from_str(&list.object_type_id).unwrap_or(ObjectType::Contacts);
        let before: BTreeSet<String> = self
            .list_members(portal, list_id)
            .await?
            .into_iter()
            .collect();
        let after: BTreeSet<String> = members.iter().cloned().collect();
        let added: Vec<String> = after.difference(&before).cloned().collect();
        let removed: Vec<String> = before.difference(&after).cloned().collect();
        let mut tx = self.pool.begin().await.ctx("begin")?;
        for id in &removed {
            sqlx::query(
                "DELETE FROM list_memberships WHERE portal = $1 AND list_id = $2 AND record_id = $3",
            )
            .bind(portal)
            .bind(list_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .ctx("replace members")?;
        }
        for id in &added {
            sqlx::query(
                "INSERT INTO list_memberships (portal, list_id, record_id) VALUES ($1, $2, $3)",
            )
            .bind(portal)
            .bind(list_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .ctx("replace members")?;
        }
        let now = crate::records::now_ms();
        let property = format!("list:{list_id}");
        for (ids, added) in [(&removed, false), (&added, true)] {
            for id in ids {
                let (old, new) = if added {
                    (None, Some(&list.name))
                } else {
                    (Some(&list.name), None)
                };
                append_event(
                    &mut tx,
                    portal,
                    &LoggedEvent {
                        object_type: member_type.api_name(),
                        object_id: id,
                        source: "lists",
                        occurred_at: now,
                        property: Some(&property),
                        old_value: old.map(String::as_str),
                        new_value: new.map(String::as_str),
                    },
                )
                .await?;
            }
        }
        tx.commit().await.ctx("commit")?;
        Ok((added, removed))
    }

    /// A list's member record ids.
    ///
    /// # Errors
    /// A query error.
    pub async fn list_members(&self, portal: &str, list_id: &str) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT record_id FROM list_memberships WHERE portal = $1 AND list_id = $2 ORDER BY record_id",
        )
        .bind(portal)
        .bind(list_id)
        .fetch_all(&self.pool)
        .await
        .ctx("read members")
    }

    /// Replaces every link between the records `from_ids` of `from` and records of `to`
    /// (read from either side), logging each link added or removed. Returns (added, removed).
    ///
    /// # Errors
    /// A query error; nothing changes.
    pub async fn replace_associations(
        &self,
        portal: &str,
        from: ObjectType,
        to: ObjectType,
        from_ids: &[String],
        links: &[Link],
    ) -> Result<(usize, usize)> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        let mut before: BTreeSet<Link> = BTreeSet::new();
        for id in from_ids {
            for link in read_links(&mut tx, portal, from, id, to).await? {
                before.insert(link);
            }
        }
        let after: BTreeSet<Link> = links.iter().cloned().collect();
        let now = crate::records::now_ms();
        let (mut added, mut removed) = (0, 0);
        for l in before.difference(&after) {
            delete_link(&mut tx, portal, from, to, l).await?;
            log_link(
                &mut tx,
                portal,
                from,
                to,
                l,
                false,
                now,
                "association-sweep",
            )
            .await?;
            removed += 1;
        }
        for l in after.difference(&before) {
            insert_link(&mut tx, portal, from, to, l).await?;
            log_link(&mut tx, portal, from, to, l, true, now, "association-sweep").await?;
            added += 1;
        }
        tx.commit().await.ctx("commit")?;
        Ok((added, removed))
    }

    /// Adds or removes one link between records of `(from, to)` (a webhook's association change). Returns whether anything
    /// changed.
    ///
    /// # Errors
    /// A query error.
    pub async fn set_association(
        &self,
        portal: &str,
        (from, to): (ObjectType, ObjectType),
        link: &Link,
        present: bool,
        occurred_at: i64,
        source: &str,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        let existing = read_links(&mut tx, portal, from, &link.from_id, to).await?;
        let has = existing
            .iter()
            .any(|l| l.to_id == link.to_id && l.type_id == link.type_id);
        if has == present {
            return Ok(false);
        }
        if present {
            insert_link(&mut tx, portal, from, to, link).await?;
        } else {
            delete_link(&mut tx, portal, from, to, link).await?;
        }
        log_link(
            &mut tx,
            portal,
            from,
            to,
            link,
            present,
            occurred_at,
            source,
        )
        .await?;
        tx.commit().await.ctx("commit")?;
        Ok(true)
    }

    /// The ids of `to` records linked to a record, read from either side.
    ///
    /// # Errors
    /// A query error.
    pub async fn associated(
        &self,
        portal: &str,
        from: ObjectType,
        id: &str,
        to: ObjectType,
    ) -> Result<Vec<String>> {
        let mut conn = self.pool.acquire().await.ctx("acquire")?;
        let links = read_links(&mut conn, portal, from, id, to).await?;
        let ids: BTreeSet<String> = links.into_iter().map(|l| l.to_id).collect();
        Ok(ids.into_iter().collect())
    }

    /// Appends a sync run's outcome.
    ///
    /// # Errors
    /// A query error.
    pub async fn record_sync_run(
        &self,
        portal: &str,
        stream: &str,
        started_at: i64,
        records: i64,
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sync_runs (portal, stream, started_at, finished_at, ok, records, error) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(portal)
        .bind(stream)
        .bind(started_at)
        .bind(crate::records::now_ms())
        .bind(flag(error.is_none()))
        .bind(records)
        .bind(error)
        .execute(&self.pool)
        .await
        .ctx("record sync run")?;
        Ok(())
    }

    /// Per stream: runs that finished and failed since `since` (unix ms).
    ///
    /// # Errors
    /// A query error.
    pub async fn sync_run_stats(&self, portal: &str, since: i64) -> Result<Vec<SyncRunStats>> {
        let rows = sqlx::query(
            "SELECT stream, CAST(SUM(ok) AS BIGINT), CAST(SUM(1 - ok) AS BIGINT), \
             CAST(SUM(CASE WHEN ok = 1 THEN records ELSE 0 END) AS BIGINT), \
             MAX(CASE WHEN ok = 1 THEN finished_at END) FROM sync_runs \
             WHERE portal = $1 AND finished_at >= $2 GROUP BY stream ORDER BY stream",
        )
        .bind(portal)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .ctx("read sync runs")?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let stream: String = r.try_get(0).ctx("sync run")?;
            let last_error: Option<String> = sqlx::query_scalar(
                "SELECT error FROM sync_runs WHERE portal = $1 AND stream = $2 AND ok = 0 AND finished_at >= $3 \
                 ORDER BY finished_at DESC LIMIT 1",
            )
            .bind(portal)
            .bind(&stream)
            .bind(since)
            .fetch_optional(&self.pool)
            .await
            .ctx("read sync runs")?
            .flatten();
            out.push(SyncRunStats {
                ok: r.try_get(1).ctx("sync run")?,
                failed: r.try_get(2).ctx("sync run")?,
                records: r.try_get(3).ctx("sync run")?,
                last_ok_at: r.try_get(4).ctx("sync run")?,
                last_error,
                stream,
            });
        }
        Ok(out)
    }
}

async fn read_links(
    conn: &mut sqlx::AnyConnection,
    portal: &str,
    from: ObjectType,
    id: &str,
    to: ObjectType,
) -> Result<Vec<Link>> {
    let rows = sqlx::query(
        "SELECT to_id, type_id FROM associations WHERE portal = $1 AND from_type = $2 AND from_id = $3 AND to_type = $4 \
         UNION SELECT from_id, type_id FROM associations WHERE portal = $1 AND to_type = $2 AND to_id = $3 AND from_type = $4",
    )
    .bind(portal)
    .bind(from.api_name())
    .bind(id)
    .bind(to.api_name())
    .fetch_all(&mut *conn)
    .await
    .ctx("read associations")?;
    rows.into_iter()
        .map(|r| {
            Ok(Link {
                from_id: id.to_owned(),
                to_id: r.try_get(0).ctx("association")?,
                type_id: r.try_get(1).ctx("association")?,
            })
        })
        .collect()
}

async fn delete_link(
    conn: &mut sqlx::AnyConnection,
    portal: &str,
    from: ObjectType,
    to: ObjectType,
    l: &Link,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM associations WHERE portal = $1 AND ((from_type = $2 AND from_id = $3 AND to_type = $4 AND to_id = $5) \
         OR (from_type = $4 AND from_id = $5 AND to_type = $2 AND to_id = $3))",
    )
    .bind(portal)
    .bind(from.api_name())
    .bind(&l.from_id)
    .bind(to.api_name())
    .bind(&l.to_id)
    .execute(&mut *conn)
    .await
    .ctx("remove association")?;
    Ok(())
}

async fn insert_link(
    conn: &mut sqlx::AnyConnection,
    portal: &str,
    from: ObjectType,
    to: ObjectType,
    l: &Link,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO associations (portal, from_type, from_id, to_type, to_id, type_id) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT DO NOTHING",
    )
    .bind(portal)
    .bind(from.api_name())
    .bind(&l.from_id)
    .bind(to.api_name())
    .bind(&l.to_id)
    .bind(l.type_id)
    .execute(&mut *conn)
    .await
    .ctx("add association")?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn log_link(
    conn: &mut sqlx::AnyConnection,
    portal: &str,
    from: ObjectType,
    to: ObjectType,
    l: &Link,
    added: bool,
    at: i64,
    source: &str,
) -> Result<()> {
    let property = format!("association:{}", to.api_name());
    let (old, new) = if added {
        (None, Some(&l.to_id))
    } else {
        (Some(&l.to_id), None)
    };
    append_event(
        conn,
        portal,
        &LoggedEvent {
            object_type: from.api_name(),
            object_id: &l.from_id,
            source,
            occurred_at: at,
            property: Some(&property),
            old_value: old.map(String::as_str),
            new_value: new.map(String::as_str),
        },
    )
    .await
}
