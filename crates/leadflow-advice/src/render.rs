//! An advice as Markdown (the CLI and the monthly report's archive) and as an HTML
//! fragment (the dashboard and the monthly report's email), from the same sections.
//!
//! Rendering only: every number and sentence comes from the [`Advice`]; nothing is
//! computed here.

use std::fmt::Write;

use crate::advise::Advice;

/// One section of the printed advice: a title and its lines.
struct Section {
    title: String,
    lines: Vec<String>,
}

fn sections(a: &Advice) -> Vec<Section> {
    let mut out = Vec::new();
    let mut trends: Vec<String> = a
        .trends
        .iter()
        .map(|t| {
            let change = match (t.change, t.per_day) {
                (None, _) => "no change to compute".to_owned(),
                (Some(c), Some([p, n])) => format!("{c:+.0}; per day {p:.1} → {n:.1}"),
                (Some(c), None) => format!("{c:+.1} points"),
            };
            format!(
                "{}: {} → {} ({change}); {}",
                t.metric,
                t.previous.display(),
                t.current.display(),
                t.evidence.display()
            )
        })
        .collect();
    trends.push(format!(
        "statuses are read as they are now: contacts of {} have had longer to answer than those of {}, so a fall in the rates is partly expected",
        a.previous_month, a.month
    ));
    out.push(Section {
        title: format!("Trends: {} against {}", a.month, a.previous_month),
        lines: trends,
    });
    let mut lines = Vec::new();
    for s in &a.strategies {
        lines.push(s.verdict.clone());
        for r in &s.strategies {
            lines.push(format!("  {}: {}", r.strategy, r.responses.display()));
        }
        lines.push(format!(
            "  best against the rest: {}; across strategies: {}",
            s.best_vs_rest.display(),
            s.independence.display()
        ));
    }
    if lines.is_empty() {
        lines.push(format!(
            "no data: no outbound contact created in {} has both an ICP type and a message strategy",
            a.month
        ));
    }
    out.push(Section {
        title: "Message strategy per ICP type (response rate)".to_owned(),
        lines,
    });
    let mut lines = Vec::new();
    for t in &a.thresholds {
        lines.push(t.verdict.clone());
        for u in &t.uses {
            lines.push(format!(
                "  workflows.yaml:{}: {} ({})",
                u.line, u.condition, u.name
            ));
        }
        lines.push(format!(
            "  score {} against {}+: {}",
            t.threshold - 1,
            t.threshold,
            t.evidence.display()
        ));
    }
    if lines.is_empty() {
        lines.push(
            "no create_deal action in workflows.yaml compares the ICP fit score with a number"
                .to_owned(),
        );
    }
    out.push(Section {
        title: "Deal thresholds (meeting rate per ICP fit score)".to_owned(),
        lines,
    });
    let mut lines: Vec<String> = a.conversions.iter().map(|c| c.verdict.clone()).collect();
    if lines.is_empty() {
        lines.push(format!(
            "no data: nobody was enrolled in a workflow or sequence in {} or {}",
            a.previous_month, a.month
        ));
    }
    out.push(Section {
        title: "Workflows and sequences (response rate of enrolled contacts)".to_owned(),
        lines,
    });
    let mut lines = a.suggestions.clone();
    if lines.is_empty() {
        lines.push("nothing to change".to_owned());
    }
    out.push(Section {
        title: "Suggestions (never applied)".to_owned(),
        lines,
    });
    out
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl Advice {
    /// The advice as Markdown: one section per finding, the tests beside the numbers, the
    /// suggested diff last.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "# Optimisation advice for {}\n\nTests at alpha = {}; a group needs at least {} contacts and {} expected successes and failures, or it is \"not enough data\".\n",
            self.month, self.alpha, self.min_contacts, self.min_expected
        );
        for s in sections(self) {
            let _ = write!(out, "\n## {}\n\n", s.title);
            for l in s.lines {
                match l.strip_prefix("  ") {
                    Some(sub) => {
                        let _ = writeln!(out, "  - {sub}");
                    }
                    None => {
                        let _ = writeln!(out, "- {l}");
                    }
                }
            }
        }
        if let Some(d) = &self.diff {
            let _ = write!(
                out,
                "\n## Suggested change to workflows.yaml (not applied)\n\n```diff\n{d}```\n"
            );
        }
        out
    }

    /// The advice as an HTML fragment (`<section class="advice">…</section>`), every text
    /// escaped, for the dashboard and the monthly report.
    pub fn to_html_fragment(&self) -> String {
        let mut out = format!(
            "<section class=\"advice\">\n<h2>Optimisation advice for {}</h2>\n<p>Tests at alpha = {}; a group needs at least {} contacts and {} expected successes and failures, or it is &quot;not enough data&quot;.</p>\n",
            escape(&self.month),
            self.alpha,
            self.min_contacts,
            self.min_expected
        );
        for s in sections(self) {
            let _ = writeln!(out, "<h3>{}</h3>\n<ul>", escape(&s.title));
            let mut open = false;
            for l in s.lines {
                match l.strip_prefix("  ") {
                    Some(sub) => {
                        if !open {
                            out.push_str("<ul>");
                            open = true;
                        }
                        let _ = write!(out, "<li>{}</li>", escape(sub));
                    }
                    None => {
                        if open {
                            out.push_str("</ul>");
                            open = false;
                        }
                        let _ = write!(out, "\n<li>{}", escape(&l));
                    }
                }
            }
            if open {
                out.push_str("</ul>");
            }
            out.push_str("\n</ul>\n");
        }
        if let Some(d) = &self.diff {
            let _ = write!(
                out,
                "<h3>Suggested change to workflows.yaml (not applied)</h3>\n<pre class=\"diff\">{}</pre>\n",
                escape(d)
            );
        }
        out.push_str("</section>\n");
        out
    }
}
