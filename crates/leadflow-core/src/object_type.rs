//! The CRM object types leadflow works with, and the names HubSpot gives them.

use std::fmt;
use std::str::FromStr;

/// A HubSpot CRM object type that leadflow reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectType {
    /// Contacts (`0-1`).
    Contacts,
    /// Companies (`0-2`).
    Companies,
    /// Deals (`0-3`).
    Deals,
    /// Tasks (`0-27`), an engagement type.
    Tasks,
}

impl ObjectType {
    /// Every object type, in a stable order.
    pub const ALL: [ObjectType; 4] = [Self::Contacts, Self::Companies, Self::Deals, Self::Tasks];

    /// The plural name used in `/crm/v3/objects/{name}` paths.
    pub fn api_name(self) -> &'static str {
        match self {
            Self::Contacts => "contacts",
            Self::Companies => "companies",
            Self::Deals => "deals",
            Self::Tasks => "tasks",
        }
    }

    /// The singular name used by associations and webhook event types (`contact.creation`).
    pub fn singular(self) -> &'static str {
        match self {
            Self::Contacts => "contact",
            Self::Companies => "company",
            Self::Deals => "deal",
            Self::Tasks => "task",
        }
    }

    /// HubSpot's object type id, such as `0-1` for contacts.
    pub fn type_id(self) -> &'static str {
        match self {
            Self::Contacts => "0-1",
            Self::Companies => "0-2",
            Self::Deals => "0-3",
            Self::Tasks => "0-27",
        }
    }

    /// The property that holds the record's creation time.
    pub fn created_property(self) -> &'static str {
        match self {
            Self::Tasks => "hs_createdate",
            _ => "createdate",
        }
    }

    /// The property that holds the record's last-modified time.
    ///
    /// Contacts use `lastmodifieddate`; every other object uses `hs_lastmodifieddate`.
    pub fn last_modified_property(self) -> &'static str {
        match self {
            Self::Contacts => "lastmodifieddate",
            _ => "hs_lastmodifieddate",
        }
    }
}

impl fmt::Display for ObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

/// A name that is not one of the object types leadflow knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownObjectType(pub String);

impl fmt::Display for UnknownObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown object type {:?}: expected contacts, companies, deals or tasks (or 0-1, 0-2, 0-3, 0-27)",
            self.0
        )
    }
}

impl std::error::Error for UnknownObjectType {}

impl FromStr for ObjectType {
    type Err = UnknownObjectType;

    /// Accepts the plural name, the singular name or the type id, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|t| t.api_name() == lower || t.singular() == lower || t.type_id() == lower)
            .ok_or_else(|| UnknownObjectType(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling_hubspot_uses() {
        for t in ObjectType::ALL {
            assert_eq!(t.api_name().parse::<ObjectType>(), Ok(t));
            assert_eq!(t.singular().parse::<ObjectType>(), Ok(t));
            assert_eq!(t.type_id().parse::<ObjectType>(), Ok(t));
        }
        assert_eq!("CONTACTS".parse::<ObjectType>(), Ok(ObjectType::Contacts));
        let err = "tickets".parse::<ObjectType>().unwrap_err();
        assert!(err.to_string().contains("tickets"));
    }

    #[test]
    fn modified_property_differs_for_contacts() {
        assert_eq!(
            ObjectType::Contacts.last_modified_property(),
            "lastmodifieddate"
        );
        assert_eq!(
            ObjectType::Deals.last_modified_property(),
            "hs_lastmodifieddate"
        );
    }
}
