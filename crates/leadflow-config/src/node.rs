//! A YAML document as a tree of nodes, each with its line and column.
//!
//! Configuration is read in two steps: YAML text to this tree (syntax errors stop here,
//! with their location), then the tree to typed configuration, where every problem is
//! collected with the location of the node that causes it. This module knows YAML and
//! locations, nothing of leadflow's configuration.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A position in a file, 1-based.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    /// The line.
    pub line: u32,
    /// The column.
    pub column: u32,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A YAML node with where it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// What it holds.
    pub value: Value,
    /// Where it starts.
    pub loc: Loc,
}

/// What a node holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `~` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The node's text when it is a scalar (numbers and booleans as written in YAML).
    pub fn as_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The string, when it is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entries, when it is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, when it is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value under `key`, when this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_text().as_deref() == Some(key))
            .map(|(_, v)| v)
    }

    /// What kind of node it is, for messages.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Parses YAML text into a node tree.
///
/// # Errors
/// The YAML syntax error with its location.
pub fn parse(text: &str) -> Result<Node, (Loc, String)> {
    if text.trim().is_empty() {
        return Ok(Node {
            value: Value::Null,
            loc: Loc { line: 1, column: 1 },
        });
    }
    serde_saphyr::from_str::<Node>(text).map_err(|e| {
        let loc = e
            .location()
            .map(|l| Loc {
                line: l.line() as u32,
                column: l.column() as u32,
            })
            .unwrap_or(Loc { line: 1, column: 1 });
        let message = e.to_string();
        let first = message.lines().next().unwrap_or("invalid YAML").to_owned();
        (loc, first)
    })
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(d)?;
        let loc = Loc {
            line: spanned.referenced.line() as u32,
            column: spanned.referenced.column() as u32,
        };
        Ok(Node {
            value: spanned.value,
            loc,
        })
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            items.push(n);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<Node, Node>()? {
            entries.push((k, v));
        }
        Ok(Value::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_know_where_they_are() {
        let text = "contact_properties:\n  icp_type:\n    type: \"dropdown\"\n    options: [\"ICP-A\", \"ICP-B\"]\n    existing: true\n    max: 10\n";
        let root = parse(text).unwrap();
        let icp = root
            .get("contact_properties")
            .unwrap()
            .get("icp_type")
            .unwrap();
        let ty = icp.get("type").unwrap();
        assert_eq!(ty.as_str(), Some("dropdown"));
        assert_eq!(
            ty.loc,
            Loc {
                line: 3,
                column: 11
            }
        );
        let options = icp.get("options").unwrap().as_seq().unwrap();
        assert_eq!(options[1].as_str(), Some("ICP-B"));
        assert_eq!(options[1].loc.line, 4);
        assert_eq!(icp.get("existing").unwrap().value, Value::Bool(true));
        assert_eq!(icp.get("max").unwrap().value, Value::Int(10));
        let key = &icp.as_map().unwrap()[0].0;
        assert_eq!(key.loc, Loc { line: 3, column: 5 });
    }

    #[test]
    fn syntax_errors_are_located() {
        let (loc, message) = parse("a:\n  b: [1, 2\n").unwrap_err();
        assert!(loc.line >= 2, "{loc} {message}");
        assert!(!message.is_empty());
    }
}
