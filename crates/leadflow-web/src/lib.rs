//! The web dashboard: the project's dashboards and reports (`reports.yaml`) as HTML pages
//! with server-side SVG charts, and the same results as JSON.
//!
//! [`router`] serves `GET /` (the first dashboard), `GET /dashboards/{key}`,
//! `GET /reports/{key}`, `GET /api/dashboard/{key}` and `GET /api/reports/{key}`, all
//! taking the filters `since` (`30d`, `2w`, `12h`), `campaign` (a campaign tag) and `icp`
//! (an ICP type) as query parameters, and the month's optimisation advice
//! (`leadflow-advice`) at `GET /advice` and `GET /api/advice` (`month=2026-11`). `svg.rs` draws a `leadflow_reports::Chart`;
//! `pages.rs` renders the minijinja templates (embedded, auto-escaped), and
//! [`report_document`] / [`dashboard_document`] render a result as one self-contained
//! HTML document for the weekly report.
//!
//! It computes nothing itself: the numbers come from `leadflow-reports` and
//! `leadflow-advice`, which read the store. It knows no SQL, no HubSpot and no
//! environment; pages use no CDN and no third-party script, so they work offline.

mod access;
mod filters;
mod pages;
mod routes;
mod svg;

use std::sync::Arc;

use axum::http::StatusCode;
use leadflow_config::Project;
use leadflow_store::Store;

pub use access::{check_exposure, protect};
pub use filters::Filters;
pub use pages::{dashboard_document, report_document, slug};
pub use routes::router;
pub use svg::chart_svg;

/// What can go wrong serving a page or an API call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No report or dashboard has this key.
    #[error("no {what} {key:?} in reports.yaml; {hint}")]
    Unknown {
        /// "report" or "dashboard".
        what: &'static str,
        /// The key asked for.
        key: String,
        /// What there is instead.
        hint: String,
    },
    /// A filter's value is not one the reports understand.
    #[error("bad filter: {0}")]
    BadFilter(String),
    /// The project's time zone is not an IANA zone.
    #[error("portal.time_zone in leadflow.yaml is {0:?}, which is not an IANA time zone")]
    TimeZone(String),
    /// Computing the report failed (a configuration the reports cannot compute, or the
    /// store).
    #[error(transparent)]
    Reports(#[from] leadflow_reports::Error),
    /// Computing the advice failed (a month outside the calendar, `workflows.yaml`
    /// unreadable, or the store).
    #[error(transparent)]
    Advice(#[from] leadflow_advice::Error),
}

impl Error {
    /// The HTTP status and a stable code for the error.
    pub fn status(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Unknown { .. } => (StatusCode::NOT_FOUND, "not_found"),
            Self::BadFilter(_) | Self::Reports(leadflow_reports::Error::BadPeriod(_)) => {
                (StatusCode::BAD_REQUEST, "bad_filter")
            }
            Self::Advice(leadflow_advice::Error::BadMonth { .. }) => {
                (StatusCode::BAD_REQUEST, "bad_filter")
            }
            Self::Reports(leadflow_reports::Error::Store(_))
            | Self::Advice(leadflow_advice::Error::Store(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "store")
            }
            // A report the configuration describes but the reports cannot compute.
            Self::TimeZone(_) | Self::Reports(_) | Self::Advice(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "configuration")
            }
        }
    }

    /// The message a client sees: this error's own for 4xx, an opaque one for 5xx (the
    /// cause goes to the log).
    pub fn public_message(&self) -> String {
        let (status, _) = self.status();
        if status.is_server_error() {
            "the report could not be computed; the server log says why".to_owned()
        } else {
            self.to_string()
        }
    }
}

/// What the dashboard reads: the store, the portal's key in it, and the project whose
/// `reports.yaml` names the reports.
#[derive(Clone)]
pub struct WebState {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    store: Store,
    portal: String,
    project: Project,
    tz: jiff::tz::TimeZone,
    /// The clock periods are measured from (fixed in tests).
    now: fn() -> jiff::Timestamp,
}

impl WebState {
    /// A dashboard over `store`'s copy of `portal`, with the reports of `project`.
    ///
    /// # Errors
    /// [`Error::TimeZone`] when the project's time zone is unknown.
    pub fn new(store: Store, portal: &str, project: Project) -> Result<Self, Error> {
        let tz = jiff::tz::TimeZone::get(&project.settings.time_zone)
            .map_err(|_| Error::TimeZone(project.settings.time_zone.clone()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                portal: portal.to_owned(),
                project,
                tz,
                now: jiff::Timestamp::now,
            }),
        })
    }

    /// The same dashboard measuring periods from `now` instead of the wall clock.
    #[must_use]
    pub fn with_clock(self, now: fn() -> jiff::Timestamp) -> Self {
        let inner = Arc::unwrap_or_clone(self.inner);
        Self {
            inner: Arc::new(Inner { now, ..inner }),
        }
    }
}
