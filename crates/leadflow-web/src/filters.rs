//! The filters every page and API call takes as query parameters (`since`, `campaign`,
//! `icp`), read and checked: an unknown or repeated parameter, a period that is not one, or
//! an ICP type the project does not define is refused with what is wrong.
//!
//! It does not know how a filter is applied: the reports narrow their contacts by it.

use leadflow_config::properties::PropertySchema;
use leadflow_core::ObjectType;
use leadflow_reports::Since;
use serde::Serialize;

use crate::Error;

/// The parameters a page or API call understands.
const KNOWN: [&str; 3] = ["since", "campaign", "icp"];
/// The longest value accepted (a campaign tag is a line of text).
const MAX_LEN: usize = 500;

/// A page's or an API call's filters, as given (an empty parameter is no filter).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Filters {
    /// The period: `30d`, `2w`, `12h` (default: the report's own, else 30 days).
    pub since: Option<String>,
    /// Only contacts with this campaign tag.
    pub campaign: Option<String>,
    /// Only contacts of this ICP type.
    pub icp: Option<String>,
}

impl Filters {
    /// Reads the query's `(name, value)` pairs.
    ///
    /// # Errors
    /// [`Error::BadFilter`] for an unknown or repeated parameter, an overlong value, a
    /// period that is not one, or an ICP type `schema` does not list.
    pub fn from_query(pairs: &[(String, String)], schema: &PropertySchema) -> Result<Self, Error> {
        let mut out = Self::default();
        for (name, value) in pairs {
            let slot = match name.as_str() {
                "since" => &mut out.since,
                "campaign" => &mut out.campaign,
                "icp" => &mut out.icp,
                _ => {
                    return Err(Error::BadFilter(format!(
                        "unknown parameter {name:?}; the filters are {}",
                        KNOWN.join(", ")
                    )));
                }
            };
            if slot.is_some() {
                return Err(Error::BadFilter(format!(
                    "{name} is given twice; give it once"
                )));
            }
            if value.len() > MAX_LEN {
                return Err(Error::BadFilter(format!(
                    "{name} is {} characters long; at most {MAX_LEN} are accepted",
                    value.len()
                )));
            }
            let value = value.trim();
            if !value.is_empty() {
                *slot = Some(value.to_owned());
            }
        }
        out.period()?;
        if let Some(icp) = &out.icp {
            let options = icp_types(schema);
            if !options.is_empty() && !options.contains(icp) {
                return Err(Error::BadFilter(format!(
                    "icp={icp:?} is not an ICP type of this project; the ICP types are {}",
                    options.join(", ")
                )));
            }
        }
        Ok(out)
    }

    /// The period asked for, if any.
    ///
    /// # Errors
    /// [`Error::BadFilter`] when `since` is not a period such as `30d`.
    pub fn period(&self) -> Result<Option<Since>, Error> {
        self.since
            .as_deref()
            .map(|s| Since::parse(s).map_err(|e| Error::BadFilter(format!("since: {e}"))))
            .transpose()
    }

    /// The contacts the reports are narrowed to (campaign tag and ICP type).
    pub fn contacts(&self) -> leadflow_reports::Filters {
        leadflow_reports::Filters {
            campaign: self.campaign.clone(),
            icp_type: self.icp.clone(),
        }
    }
}

/// The ICP types `properties.yaml` defines (the `icp` filter's choices), empty when
/// `icp_type` is not a dropdown.
pub(crate) fn icp_types(schema: &PropertySchema) -> Vec<String> {
    schema
        .find(ObjectType::Contacts, "icp_type")
        .map(|p| p.options().to_vec())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
