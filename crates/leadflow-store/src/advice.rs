//! Aggregate reads for optimisation advice: contacts per ICP fit score and response
//! status, and contacts enrolled per workflow and per sequence with how many of them
//! responded after enrolling, as the event log tells.
//!
//! Like `reports.rs`, these queries count and never divide: which statuses are a response
//! or a meeting, and what is significant, are the advice crate's business (it passes the
//! response statuses in).

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

/// The live contacts enrolled in one workflow or sequence in a window, and how many of them
/// responded after enrolling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolledCounts {
    /// The workflow's key or the sequence's id.
    pub key: String,
    /// The sequence's name (`None` for workflows, and for a sequence the store no longer
    /// lists).
    pub name: Option<String>,
    /// Distinct contacts enrolled.
    pub contacts: i64,
    /// Of them, those whose `response_status` changed to one of the statuses asked at or
    /// after their enrollment and before the window's end (a change the event log holds).
    pub responded: i64,
}

/// Which enrollments to count.
#[derive(Clone, Copy)]
enum Enrollments {
    Workflows,
    Sequences,
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

    /// The live contacts enrolled in each workflow in `[from, until)` (unix ms), each once
    /// however often enrolled, and how many responded (`response_status` became one of
    /// `responses`) between their enrollment and `until`.
    ///
    /// # Errors
    /// A query error.
    pub async fn workflow_enrolled_counts(
        &self,
        portal: &str,
        from: i64,
        until: i64,
        responses: &[&str],
    ) -> Result<Vec<EnrolledCounts>> {
        self.enrolled_counts(Enrollments::Workflows, portal, from, until, responses)
            .await
    }

    /// As [`Store::workflow_enrolled_counts`], per sequence, with the sequence's name when
    /// the store lists it.
    ///
    /// # Errors
    /// A query error.
    pub async fn sequence_enrolled_counts(
        &self,
        portal: &str,
        from: i64,
        until: i64,
        responses: &[&str],
    ) -> Result<Vec<EnrolledCounts>> {
        self.enrolled_counts(Enrollments::Sequences, portal, from, until, responses)
            .await
    }

    async fn enrolled_counts(
        &self,
        which: Enrollments,
        portal: &str,
        from: i64,
        until: i64,
        responses: &[&str],
    ) -> Result<Vec<EnrolledCounts>> {
        let (key, name, table, join) = match which {
            Enrollments::Workflows => ("w.workflow", "", "workflow_enrollments", ""),
            Enrollments::Sequences => (
                "w.sequence_id",
                ", s.name",
                "sequence_enrollments",
                "LEFT JOIN sequences s ON s.portal = w.portal AND s.id = w.sequence_id",
            ),
        };
        // No status asked: nobody can have responded (`IN ()` is not SQL).
        let statuses = if responses.is_empty() {
            "NULL".to_owned()
        } else {
            (0..responses.len())
                .map(|i| format!("${}", i + 4))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // `CROSS JOIN`: SQLite keeps the tables in the order written, so the month's
        // enrollments drive and each joins its contact by primary key (otherwise it walked
        // every live contact: 26 s against 0.5-4.5 s at 1,000,000 contacts); PostgreSQL
        // plans it as the inner join it is. A response is looked up in the contact's own
        // events (`events_object`).
        let sql = format!(
            "SELECT {key}{name}, COUNT(DISTINCT w.contact_id), \
             COUNT(DISTINCT CASE WHEN EXISTS (SELECT 1 FROM events ev \
             WHERE ev.portal = w.portal AND ev.object_type = 'contacts' AND ev.object_id = w.contact_id \
             AND ev.property = 'response_status' AND ev.new_value IN ({statuses}) \
             AND ev.occurred_at >= w.enrolled_at AND ev.occurred_at < $3) THEN w.contact_id END) \
             FROM {table} w CROSS JOIN records c {join} \
             WHERE c.portal = w.portal AND c.object_type = 'contacts' AND c.id = w.contact_id \
             AND w.portal = $1 AND w.enrolled_at >= $2 AND w.enrolled_at < $3 AND c.archived = 0 \
             GROUP BY {key}{name}"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(portal)
            .bind(from)
            .bind(until);
        for r in responses {
            q = q.bind(*r);
        }
        let rows = q.fetch_all(&self.pool).await.ctx("count enrollments")?;
        let named = matches!(which, Enrollments::Sequences);
        rows.into_iter()
            .map(|r| {
                let at = usize::from(named);
                Ok(EnrolledCounts {
                    key: r.try_get(0).ctx("enrollment counts")?,
                    name: if named {
                        r.try_get(1).ctx("enrollment counts")?
                    } else {
                        None
                    },
                    contacts: r.try_get(1 + at).ctx("enrollment counts")?,
                    responded: r.try_get(2 + at).ctx("enrollment counts")?,
                })
            })
            .collect()
    }
}
