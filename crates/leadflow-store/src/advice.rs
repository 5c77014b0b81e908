//! Aggregate reads for optimisation advice: contacts per ICP fit score and response
//! status, and enrolled contacts per workflow and per sequence by response status.
//!
//! Like `reports.rs`, these queries count and never divide: which statuses are a response
//! or a meeting, and what is significant, are the advice crate's business.

use sqlx::Row;

use crate::error::{Context, Error, Result};
use crate::records::MANAGED_COLUMNS;
use crate::reports::ContactFilter;
use crate::store::Store;

/// Contacts that share an ICP fit score and a response status.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreCounts {
    /// `icp_fit_score` (`None`: no score).
    pub score: Option<f64>,
    /// `response_status`.
    pub response_status: Option<String>,
    /// How many contacts.
    pub contacts: i64,
}

/// Distinct live contacts enrolled in one workflow or sequence that share a response
/// status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolledCounts {
    /// The workflow's key or the sequence's id.
    pub key: String,
    /// The sequence's name (`None` for workflows, and for a sequence the store no longer
    /// lists).
    pub name: Option<String>,
    /// The contacts' `response_status`.
    pub response_status: Option<String>,
    /// How many distinct contacts.
    pub contacts: i64,
}

impl Store {
    /// Counts the contacts `filter` selects by ICP fit score and response status (contacts
    /// without a creation time are not counted: advice always looks at a period).
    ///
    /// # Errors
    /// [`Error::UnknownColumn`] when the filter names a property that is not a
    /// managed one; a query error.
    pub async fn fit_score_counts(
        &self,
        portal: &str,
        filter: &ContactFilter,
    ) -> Result<Vec<ScoreCounts>> {
        let mut conditions = String::from("c.object_type = 'contacts' AND c.archived = 0");
        let mut texts = Vec::new();
        for (property, value) in &filter.equals {
            let (_, col) = MANAGED_COLUMNS
                .iter()
                .find(|(p, _)| p == property)
                .ok_or_else(|| Error::UnknownColumn(property.clone()))?;
            texts.push(value.as_str());
            conditions.push_str(&format!(" AND c.{col} = ${}", texts.len() + 3));
        }
        // The unary plus keeps SQLite off the creation-time index, which lacks the score
        // (every contact of the window would be read from the table: 18 s at 1,000,000
        // contacts), and on the covering `records_report_groups` (5 s, cold).
        let sql = format!(
            "SELECT c.icp_fit_score, c.response_status, COUNT(*) FROM records c \
             WHERE c.portal = $1 AND +c.created_at >= $2 AND +c.created_at < $3 AND {conditions} \
             GROUP BY c.icp_fit_score, c.response_status"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(portal)
            .bind(filter.created_from.unwrap_or(i64::MIN))
            .bind(filter.created_until.unwrap_or(i64::MAX));
        for t in texts {
            q = q.bind(t);
        }
        let rows = q.fetch_all(&self.pool).await.ctx("count fit scores")?;
        rows.into_iter()
            .map(|r| {
                Ok(ScoreCounts {
                    score: r.try_get(0).ctx("fit score counts")?,
                    response_status: r.try_get(1).ctx("fit score counts")?,
                    contacts: r.try_get(2).ctx("fit score counts")?,
                })
            })
            .collect()
    }

    /// Distinct live contacts enrolled in each workflow in `[from, until)` (unix ms), by
    /// their response status. A contact enrolled twice in a workflow counts once.
    ///
    /// # Errors
    /// A query error.
    pub async fn workflow_enrolled_counts(
        &self,
        portal: &str,
        from: i64,
        until: i64,
    ) -> Result<Vec<EnrolledCounts>> {
        // `CROSS JOIN`: SQLite keeps the tables in the order written, so the enrollments
        // drive and each joins its contact by primary key (otherwise it walked every live
        // contact: 26 s against 0.5-4.5 s at 1,000,000 contacts); PostgreSQL plans it as
        // the inner join it is.
        let rows = sqlx::query(
            "SELECT w.workflow, c.response_status, COUNT(DISTINCT w.contact_id) \
             FROM workflow_enrollments w CROSS JOIN records c \
             WHERE c.portal = w.portal AND c.object_type = 'contacts' AND c.id = w.contact_id \
             AND w.portal = $1 AND w.enrolled_at >= $2 AND w.enrolled_at < $3 AND c.archived = 0 \
             GROUP BY w.workflow, c.response_status",
        )
        .bind(portal)
        .bind(from)
        .bind(until)
        .fetch_all(&self.pool)
        .await
        .ctx("count workflow enrollments")?;
        rows.into_iter()
            .map(|r| {
                Ok(EnrolledCounts {
                    key: r.try_get(0).ctx("workflow enrollment counts")?,
                    name: None,
                    response_status: r.try_get(1).ctx("workflow enrollment counts")?,
                    contacts: r.try_get(2).ctx("workflow enrollment counts")?,
                })
            })
            .collect()
    }

    /// Distinct live contacts enrolled in each sequence in `[from, until)` (unix ms), by
    /// their response status, with the sequence's name when the store lists it.
    ///
    /// # Errors
    /// A query error.
    pub async fn sequence_enrolled_counts(
        &self,
        portal: &str,
        from: i64,
        until: i64,
    ) -> Result<Vec<EnrolledCounts>> {
        // `CROSS JOIN` for the join order, as in `workflow_enrolled_counts`.
        let rows = sqlx::query(
            "SELECT e.sequence_id, s.name, c.response_status, COUNT(DISTINCT e.contact_id) \
             FROM sequence_enrollments e CROSS JOIN records c \
             LEFT JOIN sequences s ON s.portal = e.portal AND s.id = e.sequence_id \
             WHERE c.portal = e.portal AND c.object_type = 'contacts' AND c.id = e.contact_id \
             AND e.portal = $1 AND e.enrolled_at >= $2 AND e.enrolled_at < $3 AND c.archived = 0 \
             GROUP BY e.sequence_id, s.name, c.response_status",
        )
        .bind(portal)
        .bind(from)
        .bind(until)
        .fetch_all(&self.pool)
        .await
        .ctx("count sequence enrollments")?;
        rows.into_iter()
            .map(|r| {
                Ok(EnrolledCounts {
                    key: r.try_get(0).ctx("sequence enrollment counts")?,
                    name: r.try_get(1).ctx("sequence enrollment counts")?,
                    response_status: r.try_get(2).ctx("sequence enrollment counts")?,
                    contacts: r.try_get(3).ctx("sequence enrollment counts")?,
                })
            })
            .collect()
    }
}
