//! Mailing archived reports by SMTP (lettre on tokio, TLS by rustls), and the delivery
//! pass that sends what the store says is due and retries failures with backoff.
//!
//! The server is a URL in lettre's form (`smtp://host:25` plain, `smtp://host:587?tls=required`
//! STARTTLS, `smtps://host:465` TLS), with the user in the URL and the password given apart
//! (from the environment or a file, by the caller): a URL holding a password is refused, so
//! the password never sits in configuration, and it lives in a [`Secret`] that prints
//! `[redacted]`. A delivery reads the report from its archive directory when it is sent,
//! so a report is archived whatever becomes of its mail.
//!
//! This module knows nothing about how a report is computed or where the data directory is.

use std::path::Path;

use jiff::Timestamp;
use leadflow_config::automation::Schedule;
use leadflow_core::Secret;
use leadflow_store::{ReportDelivery, Store};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::Error;

/// Attempts before a delivery is given up (the report stays archived).
pub const MAX_DELIVERY_ATTEMPTS: i32 = 8;

/// How long a sending worker holds a delivery.
const LEASE_MS: i64 = 10 * 60 * 1000;

/// The wait after the `attempts`th failed attempt: 5 minutes, doubling, at most 6 hours.
pub fn delivery_backoff_ms(attempts: i32) -> i64 {
    let five_minutes = 5 * 60 * 1000_i64;
    (five_minutes << (attempts.max(1) - 1).min(7)).min(6 * 60 * 60 * 1000)
}

/// An SMTP server to send through.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// The URL as given (it holds no password), for messages.
    url: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("url", &self.url).finish()
    }
}

impl Mailer {
    /// A mailer for the server at `url`, logging in as the URL's user with `password`.
    ///
    /// # Errors
    /// [`Error::SmtpUrl`] for a URL that does not parse, names no host, has a scheme other
    /// than `smtp`/`smtps`, or holds a password.
    pub fn new(url: &str, password: Option<Secret>) -> Result<Self, Error> {
        let bad = |message: String| Error::SmtpUrl {
            // The URL is only repeated when it holds no password.
            url: url::Url::parse(url)
                .ok()
                .filter(|u| u.password().is_none())
                .map_or_else(|| "(not repeated)".to_owned(), |u| u.to_string()),
            message,
        };
        let parsed = url::Url::parse(url).map_err(|e| bad(e.to_string()))?;
        if parsed.password().is_some() {
            return Err(bad(
                "the URL holds a password; give it in LEADFLOW_SMTP_PASSWORD or LEADFLOW_SMTP_PASSWORD_FILE instead".to_owned(),
            ));
        }
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| {
            bad(format!(
                "{e} (write smtp://host:25, smtp://host:587?tls=required or smtps://host:465)"
            ))
        })?;
        let user = parsed.username();
        match (user.is_empty(), password) {
            (false, Some(p)) => {
                builder =
                    builder.credentials(Credentials::new(user.to_owned(), p.expose().to_owned()));
            }
            (false, None) => {
                return Err(bad(format!(
                    "the URL names the user {user:?} but no password is set (LEADFLOW_SMTP_PASSWORD or LEADFLOW_SMTP_PASSWORD_FILE)"
                )));
            }
            (true, _) => {}
        }
        Ok(Self {
            transport: builder.build(),
            url: url.to_owned(),
        })
    }

    /// The server's URL (without a password).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends the files of `dir` as attachments, from `schedule`'s sender to its
    /// recipients.
    ///
    /// # Errors
    /// [`Error::Mail`] when the message cannot be built (an address lettre refuses, an
    /// archive that cannot be read) or the server refuses it.
    pub async fn send_dir(
        &self,
        schedule: &Schedule,
        subject: &str,
        body: &str,
        dir: &Path,
    ) -> Result<(), Error> {
        let mail = |m: String| Error::Mail(m);
        let sender = schedule
            .sender
            .as_deref()
            .ok_or_else(|| mail(format!("schedule {} has no sender", schedule.key)))?;
        let from: Mailbox = sender
            .parse()
            .map_err(|e| mail(format!("sender {sender:?}: {e}")))?;
        let mut builder = Message::builder().from(from).subject(subject);
        if schedule.recipients.is_empty() {
            return Err(mail(format!("schedule {} has no recipients", schedule.key)));
        }
        for r in &schedule.recipients {
            let to: Mailbox = r
                .parse()
                .map_err(|e| mail(format!("recipient {r:?}: {e}")))?;
            builder = builder.to(to);
        }
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| mail(format!("reading the archive {}: {e}", dir.display())))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            // A file being written is hidden (`.name.partial`) until it is whole.
            .filter(|p| {
                p.is_file()
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        files.sort();
        let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(body.to_owned()));
        for path in &files {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let kind = match path.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("csv") => "text/csv; charset=utf-8",
                Some("md") => "text/markdown; charset=utf-8",
                Some("json") => "application/json",
                _ => "application/octet-stream",
            };
            let content = std::fs::read(path)
                .map_err(|e| mail(format!("reading {}: {e}", path.display())))?;
            let content_type = ContentType::parse(kind).map_err(|e| mail(e.to_string()))?;
            parts = parts.singlepart(Attachment::new(name).body(content, content_type));
        }
        let message = builder
            .multipart(parts)
            .map_err(|e| mail(format!("building the message: {e}")))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| mail(format!("{}: {e}", self.url)))?;
        Ok(())
    }
}

/// What became of one delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryOutcome {
    /// The schedule whose report it is.
    pub schedule: String,
    /// The archive directory sent.
    pub dir: String,
    /// The attempt's number.
    pub attempts: i32,
    /// What happened.
    pub state: DeliveryState,
}

/// The state of a report's mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    /// Sent.
    Sent,
    /// Failed; retried at `next_at`.
    Retrying {
        /// When the next attempt is due.
        next_at: Timestamp,
        /// Why it failed.
        error: String,
    },
    /// Failed too often: given up (the report stays archived).
    GivenUp {
        /// Why the last attempt failed.
        error: String,
    },
}

/// Sends every delivery due at `now` (unix ms) that this worker claims. Without a mailer
/// nothing is claimed: the deliveries wait for a process that has one.
///
/// # Errors
/// A store error; a failed send is an outcome, not an error.
pub(crate) async fn deliver_due(
    store: &Store,
    portal: &str,
    schedules: &[Schedule],
    mailer: Option<&Mailer>,
    now: i64,
) -> Result<Vec<DeliveryOutcome>, Error> {
    let Some(mailer) = mailer else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for d in store.claim_report_deliveries(portal, now, LEASE_MS).await? {
        let sent = match schedules.iter().find(|s| s.key == d.schedule) {
            Some(s) => {
                let date = Path::new(&d.dir)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let subject = format!("Leadflow {}: {date}", s.key.replace('_', " "));
                let body = format!(
                    "The reports of {} for {date} are attached, and archived in {}.\n",
                    s.key, d.dir
                );
                mailer.send_dir(s, &subject, &body, Path::new(&d.dir)).await
            }
            None => Err(Error::Mail(format!(
                "schedule {} is no longer in schedules.yaml",
                d.schedule
            ))),
        };
        out.push(settle(store, portal, &d, sent, now).await?);
    }
    Ok(out)
}

async fn settle(
    store: &Store,
    portal: &str,
    d: &ReportDelivery,
    sent: Result<(), Error>,
    now: i64,
) -> Result<DeliveryOutcome, Error> {
    let key = (d.schedule.as_str(), d.slot_at);
    let state = match sent {
        Ok(()) => {
            store
                .settle_report_delivery(portal, key, "sent", (now, d.next_at), None)
                .await?;
            tracing::info!(schedule = %d.schedule, dir = %d.dir, attempts = d.attempts, "report mailed");
            DeliveryState::Sent
        }
        Err(e) if d.attempts >= MAX_DELIVERY_ATTEMPTS => {
            let error = e.to_string();
            store
                .settle_report_delivery(portal, key, "failed", (now, d.next_at), Some(&error))
                .await?;
            tracing::error!(schedule = %d.schedule, dir = %d.dir, attempts = d.attempts, error.message = %error, "report mail given up; the report stays archived");
            DeliveryState::GivenUp { error }
        }
        Err(e) => {
            let error = e.to_string();
            let next = now + delivery_backoff_ms(d.attempts);
            store
                .settle_report_delivery(portal, key, "pending", (now, next), Some(&error))
                .await?;
            tracing::warn!(schedule = %d.schedule, dir = %d.dir, attempts = d.attempts, error.message = %error, "report mail failed; retried later");
            DeliveryState::Retrying {
                next_at: Timestamp::from_millisecond(next).unwrap_or(Timestamp::MAX),
                error,
            }
        }
    };
    Ok(DeliveryOutcome {
        schedule: d.schedule.clone(),
        dir: d.dir.clone(),
        attempts: d.attempts,
        state,
    })
}
