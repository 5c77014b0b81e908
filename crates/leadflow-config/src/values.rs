//! Typed property values: the one library every write path (import, workflows, API) uses
//! to turn text into a value HubSpot accepts, or into an error that says which property,
//! what was given and what is allowed.

use std::fmt;

use crate::properties::{PropertyKind, PropertySpec};

/// HubSpot's limit on string property values.
pub const MAX_TEXT_LEN: usize = 65_536;

/// A value that fits its property.
#[derive(Clone, Debug, PartialEq)]
pub enum TypedValue {
    /// A dropdown option, spelled as the option is.
    Option(String),
    /// A number.
    Number(f64),
    /// Text.
    Text(String),
    /// A calendar day.
    Date(jiff::civil::Date),
}

impl TypedValue {
    /// The value as HubSpot takes it: dates as `YYYY-MM-DD` (midnight UTC), whole numbers
    /// without a decimal point.
    pub fn to_wire(&self) -> String {
        match self {
            Self::Option(s) | Self::Text(s) => s.clone(),
            Self::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Self::Number(n) => n.to_string(),
            Self::Date(d) => d.to_string(),
        }
    }
}

/// A value refused by its property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    /// The property's label.
    pub property: String,
    /// What was given.
    pub given: String,
    /// What is allowed.
    pub allowed: String,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {:?} is not allowed; {}",
            self.property, self.given, self.allowed
        )
    }
}

impl std::error::Error for ValueError {}

/// A number as people write it: whole numbers without a decimal point.
pub fn fmt_number(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Parses a calendar day: `YYYY-MM-DD`, an RFC 3339 instant at midnight UTC, or epoch
/// milliseconds at midnight UTC.
pub fn parse_date(text: &str) -> Option<jiff::civil::Date> {
    let t = text.trim();
    if let Ok(d) = t.parse::<jiff::civil::Date>() {
        if t.len() == 10 {
            return Some(d);
        }
    }
    let ts = if let Ok(ms) = t.parse::<i64>() {
        jiff::Timestamp::from_millisecond(ms).ok()?
    } else {
        t.parse::<jiff::Timestamp>().ok()?
    };
    let utc = ts.to_zoned(jiff::tz::TimeZone::UTC);
    (utc.time() == jiff::civil::Time::midnight()).then(|| utc.date())
}

impl PropertySpec {
    /// What values this property allows, in words.
    pub fn allowed(&self) -> String {
        match &self.kind {
            PropertyKind::Dropdown { options, .. } => {
                format!(
                    "allowed: {}",
                    options
                        .iter()
                        .map(|o| format!("{o:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
            PropertyKind::Number {
                min: Some(lo),
                max: Some(hi),
            } if lo.fract() == 0.0 && hi.fract() == 0.0 => {
                format!(
                    "allowed: a whole number from {} to {}",
                    fmt_number(*lo),
                    fmt_number(*hi)
                )
            }
            PropertyKind::Number { min, max } => match (min, max) {
                (Some(lo), Some(hi)) => format!(
                    "allowed: a number from {} to {}",
                    fmt_number(*lo),
                    fmt_number(*hi)
                ),
                (Some(lo), None) => format!("allowed: a number of at least {}", fmt_number(*lo)),
                (None, Some(hi)) => format!("allowed: a number of at most {}", fmt_number(*hi)),
                (None, None) => {
                    "allowed: a number (digits, at most one '.', no thousands separators)"
                        .to_owned()
                }
            },
            PropertyKind::Text => {
                format!("allowed: one line of text, at most {MAX_TEXT_LEN} characters")
            }
            PropertyKind::LongText => format!("allowed: text of at most {MAX_TEXT_LEN} characters"),
            PropertyKind::Date => "allowed: a calendar day as YYYY-MM-DD".to_owned(),
        }
    }

    fn refuse(&self, given: &str) -> ValueError {
        ValueError {
            property: self.label.clone(),
            given: given.to_owned(),
            allowed: self.allowed(),
        }
    }

    /// Parses `text` as a value of this property. An empty string is not a value: callers
    /// clear a property by writing `""` explicitly, not through this function.
    ///
    /// # Errors
    /// [`ValueError`] naming the property, the text and what is allowed.
    pub fn parse_value(&self, text: &str) -> Result<TypedValue, ValueError> {
        let t = text.trim();
        match &self.kind {
            PropertyKind::Dropdown { options, labels } => options
                .iter()
                .find(|o| o.as_str() == t)
                .or_else(|| options.iter().find(|o| o.eq_ignore_ascii_case(t)))
                .or_else(|| {
                    // An option may be given by its label, when it has one of its own.
                    labels
                        .iter()
                        .find(|(_, l)| l.eq_ignore_ascii_case(t))
                        .map(|(v, _)| v)
                })
                .map(|o| TypedValue::Option(o.clone()))
                .ok_or_else(|| {
                    let mut e = self.refuse(text);
                    if let Some(best) =
                        crate::diag::did_you_mean(t, options.iter().map(String::as_str))
                    {
                        e.allowed = format!("did you mean {best:?}? {}", e.allowed);
                    }
                    e
                }),
            PropertyKind::Number { min, max } => {
                let well_formed = !t.is_empty()
                    && t.chars()
                        .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
                    && t.matches('.').count() <= 1
                    && t.rfind('-').is_none_or(|i| i == 0);
                let n: f64 = if well_formed {
                    t.parse().map_err(|_| self.refuse(text))?
                } else {
                    return Err(self.refuse(text));
                };
                let whole = min.is_none_or(|m| m.fract() == 0.0)
                    && max.is_none_or(|m| m.fract() == 0.0)
                    && (min.is_some() || max.is_some());
                if (whole && n.fract() != 0.0)
                    || min.is_some_and(|m| n < m)
                    || max.is_some_and(|m| n > m)
                {
                    return Err(self.refuse(text));
                }
                Ok(TypedValue::Number(n))
            }
            PropertyKind::Text => {
                if text.chars().count() > MAX_TEXT_LEN || text.contains('\n') {
                    return Err(ValueError {
                        given: truncate(text),
                        ..self.refuse(text)
                    });
                }
                Ok(TypedValue::Text(text.to_owned()))
            }
            PropertyKind::LongText => {
                if text.chars().count() > MAX_TEXT_LEN {
                    return Err(ValueError {
                        given: truncate(text),
                        ..self.refuse(text)
                    });
                }
                Ok(TypedValue::Text(text.to_owned()))
            }
            PropertyKind::Date => parse_date(t)
                .map(TypedValue::Date)
                .ok_or_else(|| self.refuse(text)),
        }
    }
}

fn truncate(text: &str) -> String {
    let short: String = text.chars().take(40).collect();
    format!("{short}… ({} characters)", text.chars().count())
}

#[cfg(test)]
mod tests {
    use leadflow_core::ObjectType;

    use super::*;
    use crate::node::Loc;

    fn spec(label: &str, kind: PropertyKind) -> PropertySpec {
        PropertySpec {
            object: ObjectType::Contacts,
            name: label.to_lowercase().replace(' ', "_"),
            label: label.to_owned(),
            kind,
            description: String::new(),
            existing: false,
            unique: false,
            loc: Loc::default(),
        }
    }

    #[test]
    fn icp_fit_score_takes_whole_numbers_from_one_to_ten() {
        let p = spec(
            "ICP Fit Score",
            PropertyKind::Number {
                min: Some(1.0),
                max: Some(10.0),
            },
        );
        assert_eq!(p.parse_value("7").unwrap().to_wire(), "7");
        assert_eq!(p.parse_value(" 10 ").unwrap(), TypedValue::Number(10.0));
        for bad in ["0", "11", "7.5", "1,000", "seven", "", "1.2.3", "5-"] {
            let e = p.parse_value(bad).unwrap_err();
            assert_eq!(e.property, "ICP Fit Score");
            assert_eq!(e.given, bad);
            assert!(e.allowed.contains("whole number from 1 to 10"), "{e}");
        }
    }

    #[test]
    fn dropdowns_take_options_and_suggest_near_misses() {
        let p = spec(
            "Response Status",
            PropertyKind::dropdown(["No Response", "Interested"]),
        );
        assert_eq!(
            p.parse_value("Interested").unwrap(),
            TypedValue::Option("Interested".into())
        );
        assert_eq!(
            p.parse_value("interested").unwrap(),
            TypedValue::Option("Interested".into())
        );
        let e = p.parse_value("Intrested").unwrap_err();
        assert!(e.to_string().contains("did you mean \"Interested\""), "{e}");
    }

    #[test]
    fn dates_are_calendar_days_at_midnight_utc() {
        let p = spec("Last Outreach Date", PropertyKind::Date);
        assert_eq!(p.parse_value("2026-11-24").unwrap().to_wire(), "2026-11-24");
        assert_eq!(
            p.parse_value("2026-11-24T00:00:00Z").unwrap().to_wire(),
            "2026-11-24"
        );
        assert_eq!(
            p.parse_value("1764028800000").unwrap().to_wire(),
            "2025-11-25"
        );
        assert!(p.parse_value("2026-11-24T13:00:00Z").is_err());
        assert!(p.parse_value("24/11/2026").is_err());
    }

    #[test]
    fn text_has_limits() {
        let p = spec("Campaign Tag", PropertyKind::Text);
        assert!(p.parse_value("Manual Outreach - 2026-11-24").is_ok());
        assert!(p.parse_value("two\nlines").is_err());
        let long = "x".repeat(MAX_TEXT_LEN + 1);
        let e = p.parse_value(&long).unwrap_err();
        assert!(e.given.contains("65537 characters"));
        let notes = spec("Notes", PropertyKind::LongText);
        assert!(notes.parse_value("two\nlines").is_ok());
    }
}
