//! Reading typed fields out of a mapping node, reporting unknown keys and wrong types.

use crate::diag::{Sink, choices_hint};
use crate::node::{Node, Value};

/// A mapping being read: knows the keys it accepts and reports the rest.
pub(crate) struct MapReader<'n> {
    node: &'n Node,
}

impl<'n> MapReader<'n> {
    /// Starts reading `node`; reports and returns `None` when it is not a mapping.
    pub(crate) fn new(node: &'n Node, what: &str, sink: &mut Sink<'_>) -> Option<Self> {
        match &node.value {
            Value::Map(_) => Some(Self { node }),
            Value::Null => None,
            _ => {
                sink.at(
                    node,
                    format!(
                        "{what} must be a mapping of keys to values, found {}",
                        node.kind()
                    ),
                );
                None
            }
        }
    }

    /// Reports every key that is not in `allowed`, suggesting the closest.
    pub(crate) fn check_keys(&self, allowed: &[&str], what: &str, sink: &mut Sink<'_>) {
        for (k, _) in self.node.as_map().unwrap_or_default() {
            let key = k.as_text().unwrap_or_default();
            if !allowed.contains(&key.as_str()) {
                sink.hint(
                    k,
                    format!("unknown key {key:?} in {what}"),
                    choices_hint(&key, allowed.iter().copied()),
                );
            }
        }
    }

    /// The node under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&'n Node> {
        self.node.get(key)
    }

    /// A string under `key`; reports a missing required key or a non-scalar.
    pub(crate) fn string(
        &self,
        key: &str,
        required: bool,
        sink: &mut Sink<'_>,
    ) -> Option<(String, &'n Node)> {
        match self.get(key) {
            None => {
                if required {
                    sink.at(self.node, format!("missing required key {key:?}"));
                }
                None
            }
            Some(n) => match n.as_text() {
                Some(s) => Some((s, n)),
                None if matches!(n.value, Value::Null) && !required => None,
                None => {
                    sink.at(
                        n,
                        format!("{key:?} must be a single value, found {}", n.kind()),
                    );
                    None
                }
            },
        }
    }

    /// A boolean under `key` (default `false`).
    pub(crate) fn bool(&self, key: &str, sink: &mut Sink<'_>) -> bool {
        self.bool_or(key, false, sink)
    }

    /// A boolean under `key`, `default` when it is absent or not a boolean.
    pub(crate) fn bool_or(&self, key: &str, default: bool, sink: &mut Sink<'_>) -> bool {
        match self.get(key) {
            None => default,
            Some(n) => match n.value {
                Value::Bool(b) => b,
                _ => {
                    sink.hint(
                        n,
                        format!("{key:?} must be true or false, found {}", n.kind()),
                        "write true or false without quotes",
                    );
                    default
                }
            },
        }
    }

    /// A list of strings under `key`.
    pub(crate) fn strings(&self, key: &str, sink: &mut Sink<'_>) -> Vec<(String, &'n Node)> {
        let Some(n) = self.get(key) else {
            return Vec::new();
        };
        match &n.value {
            Value::Null => Vec::new(),
            Value::Seq(items) => items
                .iter()
                .filter_map(|i| match i.as_text() {
                    Some(s) => Some((s, i)),
                    None => {
                        sink.at(
                            i,
                            format!("items of {key:?} must be single values, found {}", i.kind()),
                        );
                        None
                    }
                })
                .collect(),
            _ => {
                sink.at(n, format!("{key:?} must be a list, found {}", n.kind()));
                Vec::new()
            }
        }
    }
}
