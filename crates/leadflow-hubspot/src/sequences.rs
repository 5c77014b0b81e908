//! Sequences v4: list and read sequences, enroll a contact, read a contact's enrollment.
//!
//! Sequences are owned by users: every call names a HubSpot *user id* (not an owner id),
//! and the sender email must be that user's connected inbox. A contact can be in one
//! sequence at a time; HubSpot refuses a second enrollment (`ALREADY_ENROLLED`), which
//! [`Error::is_already_enrolled`] recognises. v4 has no unenroll endpoint.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{Error, Result};
use crate::model::Page;
use crate::objects::segment;
use crate::transport::{Client, Endpoint};

/// A sequence, as listed.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Sequence {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The user who owns it.
    pub user_id: String,
    /// Its steps (only when read one by one).
    pub steps: Vec<serde_json::Value>,
}

/// An enrollment, as the enroll call answers it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Enrollment {
    /// The enrollment id.
    pub id: String,
    /// The contact's email.
    pub to_email: String,
    /// When it started.
    pub enrolled_at: Option<String>,
    /// The sequence (when read from the contact).
    pub sequence_id: Option<String>,
    /// The sequence's name (when read from the contact).
    pub sequence_name: Option<String>,
}

/// What an enrollment needs.
#[derive(Clone, Debug, PartialEq)]
pub struct EnrollmentRequest {
    /// The contact.
    pub contact_id: String,
    /// The sequence.
    pub sequence_id: String,
    /// The sending user's connected inbox.
    pub sender_email: String,
    /// The sending user's HubSpot user id.
    pub user_id: String,
}

impl Error {
    /// Whether this is HubSpot refusing to enroll a contact that is already in a sequence.
    pub fn is_already_enrolled(&self) -> bool {
        self.body().is_some_and(|b| {
            let sub = b
                .sub_category
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default();
            sub.contains("ALREADY_ENROLLED")
                || b.message()
                    .to_ascii_lowercase()
                    .contains("already enrolled")
        })
    }
}

impl Client {
    /// One page of a user's sequences, optionally filtered by name.
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn sequences_page(
        &self,
        user_id: &str,
        name: Option<&str>,
        after: Option<&str>,
    ) -> Result<Page<Sequence>> {
        let ep = Endpoint::get(
            "/automation/v4/sequences".to_owned(),
            "automation.sequences.list",
        );
        let mut query = vec![("userId", user_id.to_owned()), ("limit", "100".to_owned())];
        if let Some(n) = name {
            query.push(("name", n.to_owned()));
        }
        if let Some(a) = after {
            query.push(("after", a.to_owned()));
        }
        self.json::<(), _>(&ep, &query, None).await
    }

    /// Every sequence the user can see.
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn sequences(&self, user_id: &str) -> Result<Vec<Sequence>> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.sequences_page(user_id, None, after.as_deref()).await?;
            after = page.next_after();
            all.extend(page.results);
            if after.is_none() {
                return Ok(all);
            }
        }
    }

    /// One sequence with its steps, or `None`.
    ///
    /// # Errors
    /// Any [`Error`] but a 404.
    pub async fn sequence(&self, sequence_id: &str, user_id: &str) -> Result<Option<Sequence>> {
        let ep = Endpoint::get(
            format!("/automation/v4/sequences/{}", segment(sequence_id)),
            "automation.sequences.get",
        );
        self.json_opt::<(), _>(&ep, &[("userId", user_id.to_owned())], None)
            .await
    }

    /// Enrolls a contact. Not repeated after an ambiguous failure: read
    /// [`Client::enrollment_of_contact`] to learn whether it happened.
    ///
    /// # Errors
    /// Any [`Error`]; see [`Error::is_already_enrolled`].
    pub async fn enroll(&self, request: &EnrollmentRequest) -> Result<Enrollment> {
        let ep = Endpoint::post(
            "/automation/v4/sequences/enrollments".to_owned(),
            "automation.sequences.enroll",
        );
        let body = json!({
            "contactId": request.contact_id,
            "sequenceId": request.sequence_id,
            "senderEmail": request.sender_email,
        });
        self.json(&ep, &[("userId", request.user_id.clone())], Some(&body))
            .await
    }

    /// The contact's current enrollment, or `None`.
    ///
    /// # Errors
    /// Any [`Error`] but a 404.
    pub async fn enrollment_of_contact(&self, contact_id: &str) -> Result<Option<Enrollment>> {
        let ep = Endpoint::get(
            format!(
                "/automation/v4/sequences/enrollments/contact/{}",
                segment(contact_id)
            ),
            "automation.sequences.enrollment_of_contact",
        );
        self.json_opt::<(), _>(&ep, &[], None).await
    }
}
