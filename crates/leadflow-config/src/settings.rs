//! Project settings (`leadflow.yaml`): the portal, the property group, the deal pipeline
//! and stages the workflows need, and who sends sequence emails.

use crate::diag::{Sink, choices_hint};
use crate::node::{Node, Value};
use crate::reader::MapReader;

/// A deal stage the workflows need.
#[derive(Clone, Debug, PartialEq)]
pub struct StageSpec {
    /// Its label ("New Lead").
    pub label: String,
    /// Its win probability, 0.0 to 1.0 in steps of 0.1.
    pub probability: f64,
}

/// Who sends sequence emails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SequenceSender {
    /// The contact's owner (falling back to the first owner with a user id).
    ContactOwner,
    /// The owner with this email.
    Email(String),
}

/// `leadflow.yaml`.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// A name for the portal.
    pub portal_name: String,
    /// The account tier, which fixes the API budgets.
    pub tier: String,
    /// The IANA time zone of schedules, reports and the daily budget.
    pub time_zone: String,
    /// The property group managed properties live in.
    pub group_name: String,
    /// Its label.
    pub group_label: String,
    /// The deal pipeline, by label or id.
    pub pipeline: String,
    /// The stages the workflows need, created when missing.
    pub stages: Vec<StageSpec>,
    /// Who sends sequence emails.
    pub sequence_sender: SequenceSender,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            portal_name: "leadflow".into(),
            tier: "professional".into(),
            time_zone: "UTC".into(),
            group_name: "outbound_lead_generation".into(),
            group_label: "Outbound Lead Generation".into(),
            pipeline: "Sales Pipeline".into(),
            stages: Vec::new(),
            sequence_sender: SequenceSender::ContactOwner,
        }
    }
}

/// Checks an IANA time zone name.
pub(crate) fn check_zone(name: &str, node: &Node, sink: &mut Sink<'_>) {
    if jiff::tz::TimeZone::get(name).is_err() {
        sink.hint(
            node,
            format!("unknown time zone {name:?}"),
            "use an IANA name such as \"UTC\", \"Europe/Berlin\" or \"America/New_York\"",
        );
    }
}

pub(crate) fn read_file(root: &Node, sink: &mut Sink<'_>) -> Settings {
    let mut s = Settings::default();
    let Some(r) = MapReader::new(root, "leadflow.yaml", sink) else {
        return s;
    };
    r.check_keys(
        &["portal", "property_group", "deals", "sequences"],
        "leadflow.yaml",
        sink,
    );
    if let Some(p) = r
        .get("portal")
        .and_then(|n| MapReader::new(n, "portal", sink))
    {
        p.check_keys(&["name", "tier", "time_zone"], "portal", sink);
        if let Some((v, _)) = p.string("name", false, sink) {
            s.portal_name = v;
        }
        if let Some((v, n)) = p.string("tier", false, sink) {
            let tiers = ["free", "starter", "professional", "enterprise", "addon"];
            if !tiers.contains(&v.to_lowercase().as_str()) {
                sink.hint(n, format!("unknown tier {v:?}"), choices_hint(&v, tiers));
            }
            s.tier = v;
        }
        if let Some((v, n)) = p.string("time_zone", false, sink) {
            check_zone(&v, n, sink);
            s.time_zone = v;
        }
    }
    if let Some(g) = r
        .get("property_group")
        .and_then(|n| MapReader::new(n, "property_group", sink))
    {
        g.check_keys(&["name", "label"], "property_group", sink);
        if let Some((v, n)) = g.string("name", true, sink) {
            if !v
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                || v.is_empty()
            {
                sink.hint(
                    n,
                    format!("property group name {v:?} is not a valid internal name"),
                    "use lowercase letters, digits and _",
                );
            }
            s.group_name = v;
        }
        if let Some((v, _)) = g.string("label", false, sink) {
            s.group_label = v;
        }
    }
    if let Some(d) = r
        .get("deals")
        .and_then(|n| MapReader::new(n, "deals", sink))
    {
        d.check_keys(&["pipeline", "stages"], "deals", sink);
        if let Some((v, _)) = d.string("pipeline", false, sink) {
            s.pipeline = v;
        }
        match d.get("stages").map(|n| (&n.value, n)) {
            Some((Value::Seq(items), _)) => {
                for item in items {
                    let Some(st) = MapReader::new(item, "a stage", sink) else {
                        continue;
                    };
                    st.check_keys(&["label", "probability"], "a stage", sink);
                    let Some((label, _)) = st.string("label", true, sink) else {
                        continue;
                    };
                    let probability = match st.get("probability") {
                        None => 0.1,
                        Some(n) => match n.as_text().and_then(|t| t.parse::<f64>().ok()) {
                            Some(p)
                                if (0.0..=1.0).contains(&p)
                                    && ((p * 10.0).round() - p * 10.0).abs() < 1e-9 =>
                            {
                                p
                            }
                            _ => {
                                sink.hint(n, "a stage probability must be between 0.0 and 1.0 in steps of 0.1", "for example probability: 0.2");
                                0.1
                            }
                        },
                    };
                    if s.stages
                        .iter()
                        .any(|x: &StageSpec| x.label.eq_ignore_ascii_case(&label))
                    {
                        sink.at(item, format!("stage {label:?} is listed twice"));
                    }
                    s.stages.push(StageSpec { label, probability });
                }
            }
            Some((Value::Null, _)) | None => {}
            Some((_, n)) => sink.at(n, format!("stages must be a list, found {}", n.kind())),
        }
    }
    if let Some(q) = r
        .get("sequences")
        .and_then(|n| MapReader::new(n, "sequences", sink))
    {
        q.check_keys(&["sender"], "sequences", sink);
        if let Some((v, n)) = q.string("sender", false, sink) {
            s.sequence_sender = if v == "contact_owner" {
                SequenceSender::ContactOwner
            } else if v.contains('@') {
                SequenceSender::Email(v)
            } else {
                sink.hint(
                    n,
                    format!("sequence sender {v:?} is neither \"contact_owner\" nor an email"),
                    "write sender: \"contact_owner\" or an owner's email",
                );
                SequenceSender::ContactOwner
            };
        }
    }
    s
}
