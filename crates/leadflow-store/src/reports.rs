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

/// A query's parameters, numbered `$1`, `$2`, … in the order they are added; a placeholder
/// may be used several times in one statement.
#[derive(Default)]
struct Params {
    binds: Vec<Bind>,
}

impl Params {
    fn push(&mut self, bind: Bind) -> String {
        self.binds.push(bind);
        format!("${}", self.binds.len())
    }

    fn text(&mut self, value: &str) -> String {
        self.push(Bind::Text(value.to_owned()))
    }

    fn int(&mut self, value: i64) -> String {
        self.push(Bind::Int(value))
    }

    /// `(... IN ($a, $b))` over `column`, or a condition that never holds for no values.
    fn one_of(&mut self, column: &str, values: &[&str]) -> String {
        if values.is_empty() {
            return "1 = 0".to_owned();
        }
        let list: Vec<String> = values.iter().map(|v| self.text(v)).collect();
        format!("{column} IN ({})", list.join(", "))
    }

    fn query<'q>(self, sql: String) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in self.binds {
            q = match b {
                Bind::Text(t) => q.bind(t),
                Bind::Int(i) => q.bind(i),
            };
        }
        q
    }
}

fn column(property: &str) -> Result<&'static str> {
    MANAGED_COLUMNS
        .iter()
        .find(|(p, _)| *p == property)
        .map(|(_, c)| *c)
        .ok_or_else(|| Error::UnknownColumn(property.to_owned()))
}

/// The column order of the index `records_report_groups` (migration 0007): grouped in this
/// order, SQLite aggregates while it scans the index instead of sorting every contact.
const GROUP_ORDER: [&str; 9] = [
    "lead_source",
    "icp_type",
    "campaign_tag",
    "message_strategy",
    "response_status",
    "qualification_status",
    "session_id",
    "icp_fit_score",
    "lead_score",
];

/// The `WHERE` conditions on live contacts aliased `c`, with their parameters added to `p`.
fn conditions(filter: &ContactFilter, p: &mut Params) -> Result<String> {
    let mut sql = String::from("c.object_type = 'contacts' AND c.archived = 0");
    for (property, value) in &filter.equals {
        let col = column(property)?;
        sql.push_str(&format!(" AND c.{col} = {}", p.text(value)));
    }
    if let Some(from) = filter.created_from {
        sql.push_str(&format!(" AND c.created_at >= {}", p.int(from)));
    }
    if let Some(until) = filter.created_until {
        sql.push_str(&format!(" AND c.created_at < {}", p.int(until)));
    }
    Ok(sql)
}

/// Buckets counted per statement: SQLite allows at most 500 terms in one `UNION ALL`.
const BUCKETS_PER_STATEMENT: usize = 200;

/// Which number a bucketed count splits contacts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    /// The creation time, unix ms.
    Created,
    /// `lead_score`.
    LeadScore,
}

impl Axis {
    fn column(self) -> &'static str {
        match self {
            Self::Created => "created_at",
            Self::LeadScore => "lead_score",
        }
    }
}

/// The contacts of one bucket of a bucketed count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketCounts {
    /// `Some(i)`: the axis value lies in `[bounds[i], bounds[i + 1])`; `None`: the contacts
    /// without a value.
    pub bucket: Option<usize>,
    /// How many contacts.
    pub contacts: i64,
    /// For each condition asked, how many of them meet it.
    pub matching: Vec<i64>,
}

/// A condition a bucketed count counts: a managed property's value is one of these.
pub type OneOf<'a> = (&'a str, &'a [&'a str]);

/// How many distinct values a property takes among a set of contacts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistinctCounts {
    /// Distinct values (no value is not one).
    pub values: i64,
    /// Contacts with a value.
    pub with_value: i64,
    /// Contacts with a value that meet the condition asked.
    pub matching: i64,
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
        let mut selected = Vec::new();
        for p in group_by {
            selected.push(column(p)?);
        }
        // Grouped once per column, in the covering index's order (the order of the
        // result's rows is not promised).
        let mut grouped: Vec<&str> = selected.clone();
        grouped.extend(["response_status", "qualification_status"]);
        grouped.sort_by_key(|c| {
            GROUP_ORDER
                .iter()
                .position(|g| g == c)
                .unwrap_or(usize::MAX)
        });
        grouped.dedup();
        let columns: String = selected.iter().map(|c| format!("c.{c}, ")).collect();
        let grouped: Vec<String> = grouped.iter().map(|c| format!("c.{c}")).collect();
        let mut p = Params::default();
        let portal = p.text(portal);
        let conditions = conditions(filter, &mut p)?;
        let sql = format!(
            "SELECT {columns}c.response_status, c.qualification_status, COUNT(*), COUNT(c.icp_fit_score), \
             COALESCE(SUM(c.icp_fit_score), 0.0) \
             FROM records c WHERE c.portal = {portal} AND {conditions} \
             GROUP BY {}",
            grouped.join(", ")
        );
        let rows = p
            .query(sql)
            .fetch_all(&self.pool)
            .await
            .ctx("count contacts")?;
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

    /// Counts the contacts `filter` selects per bucket of `axis`: bucket `i` holds the
    /// contacts whose value lies in `[bounds[i], bounds[i + 1])` (`bounds` ascending), and a
    /// last bucket (`None`) those without a value. For each of `matching`, it also counts
    /// the contacts of the bucket whose property's value is one of the values given.
    ///
    /// One statement per 200 buckets, one index range per bucket (`records_report_created`,
    /// `records_report_score`): no sort, no row of the records table read.
    ///
    /// # Errors
    /// [`Error::UnknownColumn`] when a property is not a managed one; a query error.
    pub async fn bucket_counts(
        &self,
        portal: &str,
        filter: &ContactFilter,
        axis: Axis,
        bounds: &[i64],
        matching: &[OneOf<'_>],
    ) -> Result<Vec<BucketCounts>> {
        let buckets = bounds.len().saturating_sub(1);
        // On the creation axis, the filter's period narrows each bucket's range instead of
        // being a second range on the same column, which SQLite would scan from the
        // period's start for every bucket.
        // Contacts without a creation time are in no period.
        let (filter, lowest, highest, nulls) = match axis {
            Axis::Created => (
                &ContactFilter {
                    equals: filter.equals.clone(),
                    created_from: None,
                    created_until: None,
                },
                filter.created_from.unwrap_or(i64::MIN),
                filter.created_until.unwrap_or(i64::MAX),
                filter.created_from.is_none() && filter.created_until.is_none(),
            ),
            Axis::LeadScore => (filter, i64::MIN, i64::MAX, true),
        };
        let mut out = Vec::new();
        // The last statement also counts the contacts without a value.
        for first in (0..=buckets).step_by(BUCKETS_PER_STATEMENT) {
            let last = (first + BUCKETS_PER_STATEMENT).min(buckets);
            let mut p = Params::default();
            let portal = p.text(portal);
            let conditions = conditions(filter, &mut p)?;
            let mut counts = Vec::new();
            for (property, values) in matching {
                let cond = p.one_of(&format!("c.{}", column(property)?), values);
                counts.push(format!(", COUNT(CASE WHEN {cond} THEN 1 END)"));
            }
            let counts = counts.concat();
            let axis = axis.column();
            let select = |bucket: i64, range: String| {
                format!(
                    "SELECT CAST({bucket} AS BIGINT), COUNT(*){counts} FROM records c \
                     WHERE c.portal = {portal} AND {conditions} AND {range}"
                )
            };
            let mut parts = Vec::new();
            for i in first..last {
                let (from, until) = (
                    p.int(bounds[i].max(lowest)),
                    p.int(bounds[i + 1].min(highest)),
                );
                parts.push(select(
                    i as i64,
                    format!("c.{axis} >= {from} AND c.{axis} < {until}"),
                ));
            }
            if last == buckets && nulls {
                parts.push(select(-1, format!("c.{axis} IS NULL")));
            }
            if parts.is_empty() {
                continue;
            }
            let rows = p
                .query(parts.join(" UNION ALL "))
                .fetch_all(&self.pool)
                .await
                .ctx("count contacts per bucket")?;
            for r in rows {
                let bucket: i64 = r.try_get(0).ctx("bucket counts")?;
                out.push(BucketCounts {
                    bucket: usize::try_from(bucket).ok(),
                    contacts: r.try_get(1).ctx("bucket counts")?,
                    matching: (0..matching.len())
                        .map(|i| r.try_get(2 + i).ctx("bucket counts"))
                        .collect::<Result<_>>()?,
                });
            }
            if last == buckets {
                break;
            }
        }
        Ok(out)
    }

    /// Counts, per bucket `[bounds[i], bounds[i + 1])` of the event time, the logged
    /// changes of `property` into one of `into` (from no value or a value not in `into`) on
    /// the contacts `filter` selects (as they are now). Element `i` is bucket `i`.
    ///
    /// One statement per 200 buckets, one range of the index `events_report` per bucket;
    /// whether an event's contact is selected is answered by the index `records_report_id`
    /// (`CROSS JOIN` keeps SQLite from starting at the contacts).
    ///
    /// # Errors
    /// [`Error::UnknownColumn`] when a property is not a managed one; a query error.
    pub async fn changes_into(
        &self,
        portal: &str,
        filter: &ContactFilter,
        property: &str,
        into: &[&str],
        bounds: &[i64],
    ) -> Result<Vec<i64>> {
        if bounds.len() < 2 {
            return Ok(Vec::new());
        }
        column(property)?;
        let buckets = bounds.len() - 1;
        let mut out = vec![0; buckets];
        for first in (0..buckets).step_by(BUCKETS_PER_STATEMENT) {
            let last = (first + BUCKETS_PER_STATEMENT).min(buckets);
            let mut p = Params::default();
            let portal = p.text(portal);
            let conditions = conditions(filter, &mut p)?;
            let property = p.text(property);
            let entered = p.one_of("e.new_value", into);
            let left = p.one_of("e.old_value", into);
            let mut parts = Vec::new();
            for i in first..last {
                let (from, until) = (p.int(bounds[i]), p.int(bounds[i + 1]));
                parts.push(format!(
                    "SELECT CAST({i} AS BIGINT), COUNT(*) FROM events e CROSS JOIN records c \
                     WHERE c.portal = e.portal AND c.object_type = e.object_type AND c.id = e.object_id \
                     AND e.portal = {portal} AND e.object_type = 'contacts' AND e.property = {property} \
                     AND e.occurred_at >= {from} AND e.occurred_at < {until} \
                     AND {entered} AND (e.old_value IS NULL OR NOT ({left})) AND {conditions}"
                ));
            }
            let rows = p
                .query(parts.join(" UNION ALL "))
                .fetch_all(&self.pool)
                .await
                .ctx("count changes per bucket")?;
            for r in rows {
                let i: i64 = r.try_get(0).ctx("change counts")?;
                let n: i64 = r.try_get(1).ctx("change counts")?;
                if let Some(slot) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
                    *slot = n;
                }
            }
        }
        Ok(out)
    }

    /// How many distinct values `property` takes among the contacts `filter` selects, how
    /// many of them have a value, and how many of those meet `matching`.
    ///
    /// # Errors
    /// [`Error::UnknownColumn`] when a property is not a managed one; a query error.
    pub async fn distinct_counts(
        &self,
        portal: &str,
        filter: &ContactFilter,
        property: &str,
        matching: OneOf<'_>,
    ) -> Result<DistinctCounts> {
        let col = column(property)?;
        let mut p = Params::default();
        let portal = p.text(portal);
        let conditions = conditions(filter, &mut p)?;
        let cond = p.one_of(&format!("c.{}", column(matching.0)?), matching.1);
        let sql = format!(
            "SELECT COUNT(DISTINCT c.{col}), COUNT(c.{col}), \
             COUNT(CASE WHEN c.{col} IS NOT NULL AND {cond} THEN 1 END) \
             FROM records c WHERE c.portal = {portal} AND {conditions}"
        );
        let r = p
            .query(sql)
            .fetch_one(&self.pool)
            .await
            .ctx("count distinct values")?;
        Ok(DistinctCounts {
            values: r.try_get(0).ctx("distinct counts")?,
            with_value: r.try_get(1).ctx("distinct counts")?,
            matching: r.try_get(2).ctx("distinct counts")?,
        })
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
        let mut p = Params::default();
        let (portal, from, until) = (
            p.text(portal),
            p.int(from),
            p.int(until.unwrap_or(i64::MAX)),
        );
        let conditions = conditions(filter, &mut p)?;
        // The ids of the deals linked to a selected contact, one `IN` list per side the link
        // is read from (each read once, hashed by PostgreSQL): links read in index order,
        // each contact answered by `records_report_id` (`CROSS JOIN` keeps SQLite from
        // starting at the contacts); then the deals of the period among them.
        let sql = format!(
            "SELECT d.id, d.created_at, d.properties FROM records d \
             WHERE d.portal = {portal} AND d.object_type = 'deals' AND d.archived = 0 \
             AND d.created_at >= {from} AND d.created_at < {until} \
             AND (d.id IN (SELECT a.to_id FROM associations a CROSS JOIN records c \
             WHERE a.portal = {portal} AND a.from_type = 'contacts' AND a.to_type = 'deals' \
             AND c.portal = a.portal AND c.id = a.from_id AND {conditions}) \
             OR d.id IN (SELECT a.from_id FROM associations a CROSS JOIN records c \
             WHERE a.portal = {portal} AND a.from_type = 'deals' AND a.to_type = 'contacts' \
             AND c.portal = a.portal AND c.id = a.to_id AND {conditions})) \
             ORDER BY d.id"
        );
        let rows = p
            .query(sql)
            .fetch_all(&self.pool)
            .await
            .ctx("read linked deals")?;
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
