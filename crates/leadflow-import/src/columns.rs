//! Which contact property each CSV column holds.
//!
//! A header matches a property by its internal name (`icp_fit_score`) or its label
//! ("ICP Fit Score"), ignoring case, spaces, underscores and punctuation; HubSpot's own
//! contact properties (`email`, `firstname`, "Job Title", …) match the same way. A mapping
//! file overrides the matching for the columns it names. Values given for every row
//! ([`FixedValue`], from the command line's flags) are parsed here too, once.
//!
//! This module decides columns only; it never looks at a data row.

use std::collections::BTreeMap;
use std::fmt;

use leadflow_config::diag::did_you_mean;
use leadflow_config::properties::builtin_properties;
use leadflow_config::{PropertySchema, PropertySpec};

use crate::read::Warning;
use crate::{Error, OBJECT};

/// HubSpot's labels of its own contact properties, so that a HubSpot export's headers
/// ("First Name", "Company Name", "Phone Number") map without a mapping file.
const HUBSPOT_LABELS: [(&str, &str); 14] = [
    ("email", "Email"),
    ("firstname", "First Name"),
    ("lastname", "Last Name"),
    ("company", "Company Name"),
    ("jobtitle", "Job Title"),
    ("phone", "Phone Number"),
    ("website", "Website URL"),
    ("city", "City"),
    ("country", "Country/Region"),
    ("lifecyclestage", "Lifecycle Stage"),
    ("hubspot_owner_id", "Contact owner"),
    ("hs_object_id", "Record ID"),
    ("createdate", "Create Date"),
    ("lastmodifieddate", "Last Modified Date"),
];

/// Properties HubSpot sets itself: a column holding one cannot be imported.
const READ_ONLY: [&str; 3] = ["hs_object_id", "createdate", "lastmodifieddate"];

/// Other headers that mean the email, common enough in exports to accept as they are.
const EMAIL_ALIASES: [&str; 2] = ["emailaddress", "email1"];

/// A header or key compared loosely: lower case, letters and digits only.
pub(crate) fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A mapping file: `columns: { "CSV header": property }`, where the property is a name or a
/// label, and `~` (null) skips the column.
///
/// ```yaml
/// columns:
///   "E-mail Address": email
///   "Fit": "ICP Fit Score"
///   "Internal ref": ~
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MappingFile {
    /// CSV header → property name or label; `None` skips the column.
    pub columns: BTreeMap<String, Option<String>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    columns: BTreeMap<String, Option<String>>,
}

impl MappingFile {
    /// Parses a mapping file's YAML.
    ///
    /// # Errors
    /// [`Error::MappingFile`] with the YAML problem and its location.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let raw: RawMapping = serde_saphyr::from_str(text).map_err(|e| {
            let message = e.to_string();
            Error::MappingFile(
                message.lines().next().unwrap_or("invalid YAML").to_owned()
                    + "; expected columns: { \"CSV header\": property_name }",
            )
        })?;
        Ok(Self {
            columns: raw.columns,
        })
    }

    /// The entry for `header`: exact first, then compared loosely.
    fn lookup(&self, header: &str) -> Option<(&String, &Option<String>)> {
        self.columns.get_key_value(header).or_else(|| {
            let n = normalize(header);
            self.columns.iter().find(|(k, _)| normalize(k) == n)
        })
    }
}

/// A value written to one property on every row, such as `--tag` setting `campaign_tag`.
/// It overrides a column holding the same property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedValue {
    /// Where it comes from, for messages (`--strategy`).
    pub flag: String,
    /// The property's name or label.
    pub property: String,
    /// The value, validated like any cell.
    pub value: String,
}

/// A column that matches no contact property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownColumn {
    /// Its position, from 1.
    pub position: usize,
    /// Its header.
    pub column: String,
    /// The closest property name or label, when one is close.
    pub suggestion: Option<String>,
}

impl fmt::Display for UnknownColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {} {:?}", self.position, self.column)?;
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean {s:?}?)")?;
        }
        Ok(())
    }
}

/// A property a column may hold.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) spec: PropertySpec,
    read_only: bool,
    aliases: Vec<String>,
}

/// Every property a column may hold: the project's contact properties, then HubSpot's own.
#[derive(Clone, Debug)]
pub(crate) struct Targets(Vec<Target>);

impl Targets {
    pub(crate) fn new(schema: &PropertySchema) -> Self {
        let mut targets: Vec<Target> = schema
            .of(OBJECT)
            .map(|spec| Target {
                spec: spec.clone(),
                read_only: false,
                aliases: Vec::new(),
            })
            .collect();
        for (name, kind) in builtin_properties(OBJECT) {
            if targets.iter().any(|t| t.spec.name == name) {
                continue;
            }
            let label = HUBSPOT_LABELS
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(name, |(_, l)| l);
            targets.push(Target {
                spec: PropertySpec {
                    object: OBJECT,
                    name: name.to_owned(),
                    label: label.to_owned(),
                    kind,
                    description: String::new(),
                    existing: true,
                    unique: name == "email",
                    loc: Default::default(),
                },
                read_only: READ_ONLY.contains(&name),
                aliases: if name == "email" {
                    EMAIL_ALIASES.map(str::to_owned).to_vec()
                } else {
                    Vec::new()
                },
            });
        }
        Self(targets)
    }

    /// The property `key` names: its name or label, compared loosely.
    pub(crate) fn find(&self, key: &str) -> Option<&Target> {
        let n = normalize(key);
        if n.is_empty() {
            return None;
        }
        self.0.iter().find(|t| {
            normalize(&t.spec.name) == n || normalize(&t.spec.label) == n || t.aliases.contains(&n)
        })
    }

    /// The writable property name or label closest to `key`.
    pub(crate) fn suggest(&self, key: &str) -> Option<String> {
        let candidates: Vec<(String, &str)> = self
            .0
            .iter()
            .filter(|t| !t.read_only)
            .flat_map(|t| [t.spec.label.as_str(), t.spec.name.as_str()])
            .map(|c| (normalize(c), c))
            .collect();
        let best = did_you_mean(&normalize(key), candidates.iter().map(|(n, _)| n.as_str()))?;
        candidates
            .iter()
            .find(|(n, _)| n == best)
            .map(|(_, c)| (*c).to_owned())
    }
}

/// What one column is used for.
#[derive(Clone, Debug)]
pub(crate) enum Use {
    /// It holds this property.
    Property(PropertySpec),
    /// It is skipped (unknown with `ignore_unknown_columns`, or `~` in the mapping file).
    Ignored,
    /// A fixed value sets its property on every row instead.
    Overridden,
}

/// The decision for every column, and the fixed values as HubSpot takes them.
#[derive(Clone, Debug)]
pub(crate) struct Columns {
    pub(crate) uses: Vec<Use>,
    pub(crate) email: usize,
    pub(crate) fixed: Vec<Fixed>,
    pub(crate) warnings: Vec<Warning>,
}

/// A [`FixedValue`] parsed: the property's name and the value as HubSpot takes it.
#[derive(Clone, Debug)]
pub(crate) struct Fixed {
    pub(crate) flag: String,
    pub(crate) name: String,
    pub(crate) wire: String,
}

/// Parses the fixed values once.
fn fixed_values(targets: &Targets, fixed: &[FixedValue]) -> Result<Vec<Fixed>, Error> {
    let mut out: Vec<Fixed> = Vec::new();
    for f in fixed {
        let Some(target) = targets.find(&f.property).filter(|t| !t.read_only) else {
            return Err(Error::FixedValue {
                flag: f.flag.clone(),
                message: format!(
                    "it sets the contact property {:?}, which the project's properties.yaml does not define",
                    f.property
                ),
            });
        };
        if f.value.trim().is_empty() {
            return Err(Error::FixedValue {
                flag: f.flag.clone(),
                message: format!("the value for {} is empty", target.spec.label),
            });
        }
        let value = target
            .spec
            .parse_value(f.value.trim())
            .map_err(|e| Error::FixedValue {
                flag: f.flag.clone(),
                message: e.to_string(),
            })?;
        if let Some(other) = out.iter().find(|x| x.name == target.spec.name) {
            return Err(Error::FixedValue {
                flag: f.flag.clone(),
                message: format!("{} is already set by {}", target.spec.label, other.flag),
            });
        }
        out.push(Fixed {
            flag: f.flag.clone(),
            name: target.spec.name.clone(),
            wire: value.to_wire(),
        });
    }
    Ok(out)
}

/// Decides every column. Returns an error before any row is read when a column is unknown
/// (unless `ignore_unknown`), read-only, mapped twice, or when no column holds the email.
pub(crate) fn resolve(
    headers: &[String],
    schema: &PropertySchema,
    mapping: Option<&MappingFile>,
    ignore_unknown: bool,
    fixed: &[FixedValue],
) -> Result<Columns, Error> {
    let targets = Targets::new(schema);
    let fixed = fixed_values(&targets, fixed)?;
    let mut warnings = Vec::new();
    let mut uses = Vec::with_capacity(headers.len());
    let mut unknown = Vec::new();
    let mut used_keys: Vec<&String> = Vec::new();
    let mut first_column: BTreeMap<String, &str> = BTreeMap::new();
    for (i, header) in headers.iter().enumerate() {
        let target = match mapping.and_then(|m| m.lookup(header)) {
            Some((key, None)) => {
                used_keys.push(key);
                uses.push(Use::Ignored);
                continue;
            }
            Some((key, Some(to))) => {
                used_keys.push(key);
                match targets.find(to) {
                    Some(t) => t,
                    None => {
                        return Err(Error::MappingTarget {
                            column: header.clone(),
                            target: to.clone(),
                            suggestion: targets.suggest(to),
                        });
                    }
                }
            }
            None => match targets.find(header) {
                Some(t) => t,
                None => {
                    unknown.push(UnknownColumn {
                        position: i + 1,
                        column: header.clone(),
                        suggestion: targets.suggest(header),
                    });
                    uses.push(Use::Ignored);
                    continue;
                }
            },
        };
        if target.read_only {
            if ignore_unknown {
                warnings.push(Warning::IgnoredColumn {
                    column: header.clone(),
                    reason: format!(
                        "it is HubSpot's {}, which HubSpot sets itself",
                        target.spec.name
                    ),
                });
                uses.push(Use::Ignored);
                continue;
            }
            return Err(Error::ReadOnlyColumn {
                column: header.clone(),
                property: target.spec.name.clone(),
            });
        }
        if let Some(first) = first_column.get(&target.spec.name) {
            return Err(Error::DuplicateColumn {
                property: target.spec.name.clone(),
                first: (*first).to_owned(),
                second: header.clone(),
            });
        }
        first_column.insert(target.spec.name.clone(), header);
        if let Some(f) = fixed.iter().find(|f| f.name == target.spec.name) {
            warnings.push(Warning::Overridden {
                column: header.clone(),
                flag: f.flag.clone(),
            });
            uses.push(Use::Overridden);
            continue;
        }
        uses.push(Use::Property(target.spec.clone()));
    }
    let email = uses
        .iter()
        .position(|u| matches!(u, Use::Property(s) if s.name == "email"));
    let Some(email) = email else {
        let suggestion = headers
            .iter()
            .find(|h| normalize(h).contains("mail"))
            .cloned();
        return Err(Error::NoEmailColumn {
            headers: headers.to_vec(),
            suggestion,
        });
    };
    if !unknown.is_empty() {
        if !ignore_unknown {
            return Err(Error::UnknownColumns(unknown));
        }
        for u in unknown {
            warnings.push(Warning::IgnoredColumn {
                column: u.column,
                reason: "it matches no contact property".to_owned(),
            });
        }
    }
    if let Some(m) = mapping {
        for key in m.columns.keys().filter(|k| !used_keys.contains(k)) {
            warnings.push(Warning::UnusedMapping {
                column: key.clone(),
            });
        }
    }
    Ok(Columns {
        uses,
        email,
        fixed,
        warnings,
    })
}
