//! Aggregate reads for reports: contact counts grouped by managed properties, and the
//! deals linked to a report's contacts.
//!
//! These queries count; they do not divide. Which statuses count as a response or a
//! qualification, and what a ratio is when its denominator is zero, are the reports
//! crate's formulas (`docs/metrics.md`). Every query runs on both backends unchanged.

use sqlx::Row;

use crate::error::{Context, Error, Result};
use crate::records::MANAGED_COLUMNS;
use crate::store::Store;

/// Which contacts a report counts: live (not archived, not merged) contacts whose managed
/// properties equal the given values and whose creation time falls in the period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContactFilter {
    /// Managed property (internal name) and the value it must equal.
    pub equals: Vec<(String, String)>,
    /// Created at or after this instant (unix ms), when set.
    pub created_from: Option<i64>,
    /// Created before this instant (unix ms), when set.
    pub created_until: Option<i64>,
}

/// The contacts of one combination of (grouping values, response status, qualification
/// status).
///
/// Grouping by both statuses lets the caller decide which statuses count as what, without
/// the store knowing the formulas; grouping by several properties at once lets a report
/// read every breakdown in one pass.
#[derive(Clone, Debug, PartialEq)]
pub struct ContactCounts {
    /// The values of the grouping properties, in the order asked (`None`: no value).
    pub groups: Vec<Option<String>>,
    /// `response_status`.
    pub response_status: Option<String>,
    /// `qualification_status`.
    pub qualification_status: Option<String>,
    /// How many contacts.
    pub contacts: i64,
    /// How many of them have an `icp_fit_score`.
    pub fit_scored: i64,
    /// The sum of their `icp_fit_score` values (0 when none has one).
    pub fit_score_sum: f64,
}

/// A deal linked (from either side) to at least one contact a filter selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedDeal {
    /// HubSpot's id.
    pub id: String,
    /// Creation time, unix ms.
    pub created_at: Option<i64>,
    /// The `amount` property as HubSpot sent it.
    pub amount: Option<String>,
}

enum Bind {
    Text(String),
    Int(i64),
}

fn column(property: &str) -> Result<&'static str> {
    MANAGED_COLUMNS
        .iter()
        .find(|(p, _)| *p == property)
        .map(|(_, c)| *c)
        .ok_or_else(|| Error::UnknownColumn(property.to_owned()))
}

/// The `WHERE` conditions on contacts aliased `c`, with placeholders numbered after `first`.
fn contact_conditions(filter: &ContactFilter, first: usize) -> Result<(String, Vec<Bind>)> {
    let mut sql = String::from("c.object_type = 'contacts' AND c.archived = 0");
    let mut binds = Vec::new();
    for (property, value) in &filter.equals {
        let col = column(property)?;
        binds.push(Bind::Text(value.clone()));
        sql.push_str(&format!(" AND c.{col} = ${}", first + binds.len()));
    }
    if let Some(from) = filter.created_from {
        binds.push(Bind::Int(from));
        sql.push_str(&format!(" AND c.created_at >= ${}", first + binds.len()));
    }
    if let Some(until) = filter.created_until {
        binds.push(Bind::Int(until));
        sql.push_str(&format!(" AND c.created_at < ${}", first + binds.len()));
    }
    Ok((sql, binds))
}

impl Store {
    /// Counts the contacts `filter` selects, grouped by the managed properties `group_by`
    /// (internal names; none for one overall group) and by response and qualification
    /// status.
    ///
    /// # Errors
    /// [`Error::UnknownColumn`] when a property is not a managed one; a query error.
    pub async fn contact_counts(
        &self,
        portal: &str,
        filter: &ContactFilter,
        group_by: &[&str],
    ) -> Result<Vec<ContactCounts>> {
        let mut columns = Vec::new();
        for p in group_by {
            columns.push(format!("c.{}, ", column(p)?));
        }
        let columns = columns.concat();
        let (conditions, binds) = contact_conditions(filter, 1)?;
        let sql = format!(
            "SELECT {columns}c.response_status, c.qualification_status, COUNT(*), COUNT(c.icp_fit_score), \
             COALESCE(SUM(c.icp_fit_score), 0.0) \
             FROM records c WHERE c.portal = $1 AND {conditions} \
             GROUP BY {columns}c.response_status, c.qualification_status"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(portal);
        for b in binds {
            q = match b {
                Bind::Text(t) => q.bind(t),
                Bind::Int(i) => q.bind(i),
            };
        }
        let rows = q.fetch_all(&self.pool).await.ctx("count contacts")?;
        let k = group_by.len();
        rows.into_iter()
            .map(|r| {
                Ok(ContactCounts {
                    groups: (0..k)
                        .map(|i| r.try_get(i).ctx("contact counts"))
                        .collect::<Result<_>>()?,
                    response_status: r.try_get(k).ctx("contact counts")?,
                    qualification_status: r.try_get(k + 1).ctx("contact counts")?,
                    contacts: r.try_get(k + 2).ctx("contact counts")?,
                    fit_scored: r.try_get(k + 3).ctx("contact counts")?,
                    fit_score_sum: r.try_get(k + 4).ctx("contact counts")?,
                })
            })
            .collect()
    }

    /// The live deals created in `[from, until)` (unix ms; `until` open when `None`) that
    /// are linked to at least one contact `filter` selects; each deal once, by id.
    ///
    /// # Errors
    /// [`Error::UnknownColumn`] when a property is not a managed one; a query error;
    /// [`Error::Corrupt`] when a deal's stored properties are not JSON.
    pub async fn deals_of_contacts(
        &self,
        portal: &str,
        filter: &ContactFilter,
        from: i64,
        until: Option<i64>,
    ) -> Result<Vec<LinkedDeal>> {
        let (conditions, binds) = contact_conditions(filter, 3)?;
        // Two `IN` subqueries, one per side a link can be read from, so that each joins
        // contacts on their primary key (an `OR` inside one join defeats the index).
        let sql = format!(
            "SELECT d.id, d.created_at, d.properties FROM records d \
             WHERE d.portal = $1 AND d.object_type = 'deals' AND d.archived = 0 \
             AND d.created_at >= $2 AND d.created_at < $3 \
             AND (d.id IN (SELECT a.from_id FROM associations a JOIN records c \
             ON c.portal = a.portal AND c.object_type = 'contacts' AND c.id = a.to_id \
             WHERE a.portal = $1 AND a.from_type = 'deals' AND a.to_type = 'contacts' AND {conditions}) \
             OR d.id IN (SELECT a.to_id FROM associations a JOIN records c \
             ON c.portal = a.portal AND c.object_type = 'contacts' AND c.id = a.from_id \
             WHERE a.portal = $1 AND a.from_type = 'contacts' AND a.to_type = 'deals' AND {conditions})) \
             ORDER BY d.id"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(portal)
            .bind(from)
            .bind(until.unwrap_or(i64::MAX));
        for b in binds {
            q = match b {
                Bind::Text(t) => q.bind(t),
                Bind::Int(i) => q.bind(i),
            };
        }
        let rows = q.fetch_all(&self.pool).await.ctx("read linked deals")?;
        rows.into_iter()
            .map(|r| {
                let json: String = r.try_get(2).ctx("linked deal")?;
                let props: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&json)
                    .map_err(|source| Error::Corrupt {
                        what: "deal properties",
                        source,
                    })?;
                Ok(LinkedDeal {
                    id: r.try_get(0).ctx("linked deal")?,
                    created_at: r.try_get(1).ctx("linked deal")?,
                    amount: props
                        .get("amount")
                        .and_then(|v| v.as_str())
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned),
                })
            })
            .collect()
    }
}
