//! Bulk reads in id order, for passes over every contact (the workflows' dry run).
//!
//! A pass reads the live contacts a page at a time by keyset (`id > last id of the page
//! before`, in the database's own text order), and, for the range of ids a page spans,
//! everything else it needs in one query each: the contacts' events, which of them have a
//! deal, their workflow enrollments, which of them a time-based trigger holds. Every
//! query is a range scan of an index that starts with the id, so a pass over n contacts
//! is O(n) reads with memory one page deep.

use sqlx::Row;

use crate::error::{Context, Result};
use crate::outbox::EnrollmentRow;
use crate::records::{Event, MANAGED_COLUMNS};
use crate::store::Store;
use leadflow_core::ObjectType;

/// Record ids after `after` (exclusive; `""` is before every id) up to `upto` (inclusive;
/// `None` is past every id), in the database's text order: the span of one page of
/// [`Store::live_contacts_page`], or the tail after the last page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdRange<'a> {
    /// The last id of the page before, or `""`.
    pub after: &'a str,
    /// The last id of this page, or `None` for the rest.
    pub upto: Option<&'a str>,
}

impl IdRange<'_> {
    /// `column > $n [AND column <= $n+1]`.
    pub(crate) fn sql(&self, column: &str, n: usize) -> String {
        match self.upto {
            Some(_) => format!("{column} > ${n} AND {column} <= ${}", n + 1),
            None => format!("{column} > ${n}"),
        }
    }

    pub(crate) fn bind<'q>(
        &self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>
    where
        Self: 'q,
    {
        let q = q.bind(self.after.to_owned());
        match self.upto {
            Some(u) => q.bind(u.to_owned()),
            None => q,
        }
    }
}

/// A live record as read in bulk: its id and its properties as the stored JSON document
/// (an object of name to value or null), left for the caller to parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRecord {
    /// HubSpot's id.
    pub id: String,
    /// The properties, JSON.
    pub properties: String,
}

impl Store {
    /// Up to `limit` live (not archived) contacts with ids after `after` (`""`: from the
    /// first), in id order. The next page starts after the last id of this one.
    ///
    /// # Errors
    /// A query error.
    pub async fn live_contacts_page(
        &self,
        portal: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<RawRecord>> {
        let rows = sqlx::query(
            "SELECT id, properties FROM records WHERE portal = $1 AND object_type = 'contacts' AND archived = 0 \
             AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(portal)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("read contacts")?;
        rows.iter()
            .map(|r| {
                Ok(RawRecord {
                    id: r.try_get(0).ctx("contact")?,
                    properties: r.try_get(1).ctx("contact")?,
                })
            })
            .collect()
    }

    /// The events of the contacts in `range` that occurred at or after `since` (unix ms),
    /// backfills excepted (they describe what already was), grouped by contact in id
    /// order and oldest first within a contact.
    ///
    /// # Errors
    /// A query error.
    pub async fn contact_events_in(
        &self,
        portal: &str,
        range: IdRange<'_>,
        since: i64,
    ) -> Result<Vec<Event>> {
        let sql = format!(
            "SELECT seq, object_type, object_id, source, occurred_at, property, old_value, new_value FROM events \
             WHERE portal = $1 AND object_type = 'contacts' AND {} AND occurred_at >= ${} \
             AND substr(source, 1, 8) <> 'backfill' ORDER BY object_id, seq",
            range.sql("object_id", 2),
            if range.upto.is_some() { 4 } else { 3 },
        );
        let q = range
            .bind(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(portal))
            .bind(since);
        let rows = q.fetch_all(&self.pool).await.ctx("read events")?;
        rows.iter().map(crate::records::event_row).collect()
    }

    /// The ids in `range` of records of type `from` linked to at least one record of type
    /// `to`, links read from either side, in no particular order.
    ///
    /// # Errors
    /// A query error.
    pub async fn linked_ids_in(
        &self,
        portal: &str,
        from: ObjectType,
        to: ObjectType,
        range: IdRange<'_>,
    ) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT from_id FROM associations WHERE portal = $1 AND from_type = $2 AND to_type = $3 AND {} \
             UNION SELECT to_id FROM associations WHERE portal = $1 AND to_type = $2 AND from_type = $3 AND {}",
            range.sql("from_id", 4),
            range.sql("to_id", 4),
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(portal)
            .bind(from.api_name())
            .bind(to.api_name());
        range
            .bind(q)
            .fetch_all(&self.pool)
            .await
            .ctx("read associations")?
            .iter()
            .map(|r| r.try_get(0).ctx("association"))
            .collect()
    }

    /// The workflow enrollments of the contacts in `range`, by contact.
    ///
    /// # Errors
    /// A query error.
    pub async fn workflow_enrollments_in(
        &self,
        portal: &str,
        range: IdRange<'_>,
    ) -> Result<Vec<EnrollmentRow>> {
        let sql = format!(
            "SELECT workflow, contact_id, trigger_value, enrolled_at FROM workflow_enrollments \
             WHERE portal = $1 AND {} ORDER BY contact_id, enrolled_at, workflow",
            range.sql("contact_id", 2)
        );
        let rows = range
            .bind(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(portal))
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

    /// The ids in `range` of the live contacts [`Store::contacts_holding`] would return:
    /// managed `column` equal to `value`, date column `since` on or before `before`.
    ///
    /// # Errors
    /// A query error, or an unknown column.
    pub async fn contacts_holding_in(
        &self,
        portal: &str,
        (column, value): (&str, &str),
        (since, before): (&str, &str),
        range: IdRange<'_>,
    ) -> Result<Vec<String>> {
        let known = |c: &str| MANAGED_COLUMNS.iter().any(|(_, col)| *col == c);
        if !known(column) || !known(since) {
            return Err(crate::Error::UnknownColumn(format!("{column}/{since}")));
        }
        let sql = format!(
            "SELECT id FROM records WHERE portal = $1 AND object_type = 'contacts' AND archived = 0 AND {} \
             AND {}",
            range.sql("id", 2),
            crate::outbox::holding_sql(column, since, if range.upto.is_some() { 4 } else { 3 }),
        );
        let q = range
            .bind(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(portal))
            .bind(value)
            .bind(before);
        q.fetch_all(&self.pool)
            .await
            .ctx("read contacts")?
            .iter()
            .map(|r| r.try_get(0).ctx("contact"))
            .collect()
    }
}
