//! Conditions and templates: the spec's syntax translated to minijinja, and checked
//! against the property schema.
//!
//! The spec writes conditions for people: `ICP Fit Score >= 7`,
//! `response_status == 'Meeting Scheduled' AND deal exists`,
//! `last_outreach_date < {{ current_date - 3 days }}`. A small rewrite turns them into
//! minijinja expressions (labels to internal names, `AND`/`OR`/`NOT` to lower case,
//! `X exists` to `X is defined`, date arithmetic to `add_days(current_date, -3)`); minijinja
//! parses and evaluates them. The checker walks minijinja's syntax tree to find unknown
//! properties, options that are not in a dropdown, and values of the wrong type.

use leadflow_core::ObjectType;
use minijinja::machinery::{ast, parse_expr};

use crate::diag::{choices_hint, suggest_name};
use crate::properties::{PropertyKind, PropertySchema};
use crate::values::fmt_number;

/// Names a condition may use besides properties.
pub const CONDITION_GLOBALS: [&str; 4] = ["contact", "deal", "current_date", "add_days"];

/// One problem in a condition or template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprProblem {
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

fn problem(message: impl Into<String>, hint: Option<String>) -> ExprProblem {
    ExprProblem {
        message: message.into(),
        hint,
    }
}

/// Splits text into code and quoted-string pieces: `(is_string, text)`.
fn pieces(src: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let mut code = String::new();
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' || c == '"' {
            if !code.is_empty() {
                out.push((false, std::mem::take(&mut code)));
            }
            let mut s = String::from(c);
            for d in chars.by_ref() {
                s.push(d);
                if d == c {
                    break;
                }
            }
            out.push((true, s));
        } else {
            code.push(c);
        }
    }
    if !code.is_empty() {
        out.push((false, code));
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Replaces `needle` (case-insensitive, whole words) in `hay` with `with`.
fn replace_words(hay: &str, needle: &str, with: &str) -> String {
    let lower = hay.to_lowercase();
    let n = needle.to_lowercase();
    if n.is_empty() || lower.len() != hay.len() {
        return hay.to_owned();
    }
    let mut out = String::new();
    let mut i = 0;
    while let Some(pos) = lower[i..].find(&n) {
        let start = i + pos;
        let end = start + n.len();
        let before_ok = hay[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !is_word(c) && c != '.');
        let after_ok = hay[end..].chars().next().is_none_or(|c| !is_word(c));
        out.push_str(&hay[i..start]);
        if before_ok && after_ok {
            out.push_str(with);
        } else {
            out.push_str(&hay[start..end]);
        }
        i = end;
    }
    out.push_str(&hay[i..]);
    out
}

/// Rewrites `current_date ± N day(s)|week(s)` into `add_days(current_date, ±N)`.
fn rewrite_dates(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(pos) = rest.find("current_date") {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + "current_date".len()..];
        let trimmed = after.trim_start();
        let sign = trimmed.chars().next().filter(|c| *c == '+' || *c == '-');
        let parsed = sign.and_then(|s| {
            let t = trimmed[1..].trim_start();
            let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
            if digits.is_empty() {
                return None;
            }
            let t2 = t[digits.len()..].trim_start();
            let unit: String = t2.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
            let factor = match unit.to_lowercase().as_str() {
                "day" | "days" => 1,
                "week" | "weeks" => 7,
                _ => return None,
            };
            let n: i64 = digits.parse().ok()?;
            let consumed = after.len() - t2.len() + unit.len();
            Some((if s == '-' { -n * factor } else { n * factor }, consumed))
        });
        match parsed {
            Some((days, consumed)) => {
                out.push_str(&format!("add_days(current_date, {days})"));
                rest = &after[consumed..];
            }
            None => {
                out.push_str("current_date");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Translates a condition in the spec's syntax into a minijinja expression.
pub fn translate_condition(src: &str, schema: &PropertySchema) -> String {
    let mut labels: Vec<(String, String)> = schema
        .of(ObjectType::Contacts)
        .filter(|p| p.label != p.name)
        .map(|p| (p.label.clone(), p.name.clone()))
        .collect();
    labels.sort_by_key(|(l, _)| std::cmp::Reverse(l.len()));
    let mut out = String::new();
    for (is_string, text) in pieces(src) {
        if is_string {
            out.push_str(&text);
            continue;
        }
        let mut code = text.replace("{{", "(").replace("}}", ")");
        code = rewrite_dates(&code);
        for (label, name) in &labels {
            code = replace_words(&code, label, name);
        }
        for (word, with) in [("AND", "and"), ("OR", "or"), ("NOT", "not")] {
            code = replace_words(&code, word, with);
        }
        code = replace_words(&code, "does not exist", "is not defined");
        code = replace_words(&code, "not exists", "is not defined");
        code = replace_words(&code, "exists", "is defined");
        out.push_str(&code);
    }
    out.trim().to_owned()
}

/// Translates a template's `{{ … }}` blocks (date arithmetic) and leaves the rest.
pub fn translate_template(src: &str) -> String {
    let mut out = String::new();
    let mut rest = src;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else {
            break;
        };
        out.push_str(&rest[..open + 2]);
        out.push_str(&rewrite_dates(&rest[open + 2..open + close]));
        out.push_str("}}");
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

/// The `{{ … }}` expressions of a translated template.
fn template_exprs(src: &str) -> Result<Vec<String>, ExprProblem> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else {
            return Err(problem(
                "a template opens {{ without closing it",
                Some("close every {{ with }}".to_owned()),
            ));
        };
        out.push(rest[open + 2..open + close].trim().to_owned());
        rest = &rest[open + close + 2..];
    }
    if rest.contains("}}") {
        return Err(problem("a template closes }} without opening it", None));
    }
    Ok(out)
}

/// Checks a condition (in the spec's syntax) against the schema.
pub fn check_condition(src: &str, schema: &PropertySchema) -> Vec<ExprProblem> {
    let jinja = translate_condition(src, schema);
    match parse_expr(&jinja) {
        Ok(expr) => {
            let mut out = Vec::new();
            Checker {
                schema,
                out: &mut out,
            }
            .expr(&expr);
            out
        }
        Err(e) => match unknown_label(&jinja, schema) {
            Some(p) => vec![p],
            None => vec![problem(
                format!(
                    "the condition {src:?} does not parse: {}",
                    e.detail().unwrap_or("syntax error")
                ),
                Some(
                    "conditions look like `ICP Fit Score >= 7 AND response_status == 'Interested'`"
                        .to_owned(),
                ),
            )],
        },
    }
}

/// Words the translated condition language uses between names.
const KEYWORDS: [&str; 10] = [
    "and",
    "or",
    "not",
    "in",
    "is",
    "defined",
    "undefined",
    "none",
    "true",
    "false",
];

/// A condition that does not parse because it names a property by a label of several
/// words that is not in the schema (`ICP Fitness >= 7`): the labels leadflow knows were
/// already replaced by names, so two or more bare words in a row are an unknown label.
fn unknown_label(jinja: &str, schema: &PropertySchema) -> Option<ExprProblem> {
    for (is_string, code) in pieces(jinja) {
        if is_string {
            continue;
        }
        let mut run: Vec<&str> = Vec::new();
        let check = |run: &mut Vec<&str>| -> Option<ExprProblem> {
            let found = (run.len() >= 2).then(|| run.join(" "));
            run.clear();
            let label = found?;
            let known = schema.known_names(ObjectType::Contacts);
            let hint = suggest_name(&label, known.iter().map(String::as_str))
                .map(|b| format!("did you mean {b:?}?"))
                .unwrap_or_else(|| {
                    "name a property by its label or internal name, as in properties.yaml"
                        .to_owned()
                });
            Some(problem(
                format!("unknown contact property {label:?}"),
                Some(hint),
            ))
        };
        let mut rest = code.as_str();
        loop {
            let trimmed = rest.trim_start_matches([' ', '\t']);
            let word_len = trimmed
                .char_indices()
                .find(|(_, c)| !is_word(*c))
                .map_or(trimmed.len(), |(i, _)| i);
            let word = &trimmed[..word_len];
            let is_name = !word.is_empty()
                && !word.chars().next().is_some_and(|c| c.is_ascii_digit())
                && !KEYWORDS.contains(&word.to_lowercase().as_str());
            if is_name {
                run.push(word);
                rest = &trimmed[word_len..];
                continue;
            }
            if let Some(p) = check(&mut run) {
                return Some(p);
            }
            let mut chars = trimmed.chars();
            if word.is_empty() {
                if chars.next().is_none() {
                    break;
                }
                rest = chars.as_str();
            } else {
                rest = &trimmed[word_len..];
            }
        }
    }
    None
}

/// Checks a template (`{{ contact.firstname }} …`) against the schema.
pub fn check_template(src: &str, schema: &PropertySchema) -> Vec<ExprProblem> {
    let translated = translate_template(src);
    let exprs = match template_exprs(&translated) {
        Ok(e) => e,
        Err(p) => return vec![p],
    };
    let mut out = Vec::new();
    for e in exprs {
        match parse_expr(&e) {
            Ok(expr) => {
                Checker {
                    schema,
                    out: &mut out,
                }
                .expr(&expr);
            }
            Err(err) => out.push(problem(
                format!(
                    "the template expression {{{{ {e} }}}} does not parse: {}",
                    err.detail().unwrap_or("syntax error")
                ),
                None,
            )),
        }
    }
    if let Err(e) = minijinja::Environment::new().template_from_str(&translated) {
        out.push(problem(
            format!(
                "the template does not parse: {}",
                e.detail().unwrap_or("syntax error")
            ),
            None,
        ));
    }
    out
}

/// What an expression evaluates to, as far as the checker can tell.
#[derive(Clone, Debug)]
enum Ty {
    Property(String, PropertyKind),
    Str(String),
    /// A number, with its value when it is a constant.
    Number(Option<f64>),
    Date,
    Bool,
    Unknown,
}

struct Checker<'a> {
    schema: &'a PropertySchema,
    out: &'a mut Vec<ExprProblem>,
}

impl Checker<'_> {
    fn property(&mut self, object: ObjectType, name: &str) -> Ty {
        match self.schema.kind_of(object, name) {
            Some((n, k)) => Ty::Property(n, k),
            None => {
                let known = self.schema.known_names(object);
                let hint = suggest_name(name, known.iter().map(String::as_str))
                    .map(|b| format!("did you mean {b:?}?"));
                self.out.push(problem(
                    format!("unknown {} property {name:?}", object.singular()),
                    hint,
                ));
                Ty::Unknown
            }
        }
    }

    fn expr(&mut self, e: &ast::Expr<'_>) -> Ty {
        match e {
            ast::Expr::Var(v) => match v.id {
                "contact" | "deal" => Ty::Unknown,
                "current_date" => Ty::Date,
                id => self.property(ObjectType::Contacts, id),
            },
            ast::Expr::Const(c) => {
                let v = &c.value;
                if let Some(s) = v.as_str() {
                    Ty::Str(s.to_owned())
                } else if v.is_number() {
                    Ty::Number(f64::try_from(v.clone()).ok())
                } else if v.kind() == minijinja::value::ValueKind::Bool {
                    Ty::Bool
                } else {
                    Ty::Unknown
                }
            }
            ast::Expr::GetAttr(g) => match &g.expr {
                ast::Expr::Var(v) if v.id == "contact" => {
                    self.property(ObjectType::Contacts, g.name)
                }
                ast::Expr::Var(v) if v.id == "deal" => self.property(ObjectType::Deals, g.name),
                other => {
                    self.expr(other);
                    Ty::Unknown
                }
            },
            ast::Expr::UnaryOp(u) => {
                let inner = self.expr(&u.expr);
                match (&u.op, inner) {
                    (ast::UnaryOpKind::Neg, Ty::Number(n)) => Ty::Number(n.map(|n| -n)),
                    (ast::UnaryOpKind::Neg, _) => Ty::Unknown,
                    (ast::UnaryOpKind::Not, _) => Ty::Bool,
                }
            }
            ast::Expr::BinOp(b) => {
                let l = self.expr(&b.left);
                match b.op {
                    ast::BinOpKind::ScAnd | ast::BinOpKind::ScOr => {
                        self.expr(&b.right);
                    }
                    ast::BinOpKind::In => self.membership(&l, &b.right),
                    _ => {
                        let r = self.expr(&b.right);
                        self.compare(&l, &r);
                    }
                }
                Ty::Bool
            }
            ast::Expr::Compare(c) => {
                let mut left = self.expr(&c.expr);
                for op in &c.ops {
                    let right = self.expr(&op.expr);
                    match op.op {
                        ast::CompareOpKind::In | ast::CompareOpKind::NotIn => {
                            self.membership(&left, &op.expr)
                        }
                        _ => self.compare(&left, &right),
                    }
                    left = right;
                }
                Ty::Bool
            }
            ast::Expr::Test(t) => {
                self.expr(&t.expr);
                if !matches!(
                    t.name,
                    "defined" | "undefined" | "none" | "true" | "false" | "number" | "string"
                ) {
                    self.out.push(problem(
                        format!("unknown test `is {}`", t.name),
                        Some("use `X exists` or `X is defined`".to_owned()),
                    ));
                }
                Ty::Bool
            }
            ast::Expr::Call(call) => {
                match &call.expr {
                    ast::Expr::Var(v) if v.id == "add_days" => {}
                    _ => self.out.push(problem(
                        "conditions may call only date arithmetic (current_date ± N days)",
                        None,
                    )),
                }
                for a in &call.args {
                    if let ast::CallArg::Pos(e) = a {
                        self.expr(e);
                    }
                }
                Ty::Date
            }
            ast::Expr::List(l) => {
                for i in &l.items {
                    self.expr(i);
                }
                Ty::Unknown
            }
            ast::Expr::Filter(f) => {
                if let Some(e) = &f.expr {
                    self.expr(e);
                }
                Ty::Unknown
            }
            _ => Ty::Unknown,
        }
    }

    /// `left in [items]`: each item is compared with `left`.
    fn membership(&mut self, left: &Ty, list: &ast::Expr<'_>) {
        match list {
            ast::Expr::List(list) => {
                for item in &list.items {
                    let t = self.expr(item);
                    self.compare(left, &t);
                }
            }
            ast::Expr::Const(c) => {
                if let Ok(items) = c.value.try_iter() {
                    for item in items {
                        let t = match item.as_str() {
                            Some(s) => Ty::Str(s.to_owned()),
                            None if item.is_number() => Ty::Number(f64::try_from(item).ok()),
                            None => Ty::Unknown,
                        };
                        self.compare(left, &t);
                    }
                }
            }
            other => {
                self.expr(other);
            }
        }
    }

    fn compare(&mut self, left: &Ty, right: &Ty) {
        let (prop, other) = match (left, right) {
            (Ty::Property(n, k), o) | (o, Ty::Property(n, k)) => ((n, k), o),
            _ => return,
        };
        let (name, kind) = prop;
        match (kind, other) {
            (PropertyKind::Dropdown { options, .. }, Ty::Str(v)) => {
                if !options.iter().any(|o| o == v) {
                    self.out.push(problem(
                        format!("{v:?} is not an option of {name}"),
                        Some(choices_hint(v, options.iter().map(String::as_str))),
                    ));
                }
            }
            (PropertyKind::Dropdown { .. }, Ty::Number(_)) => {
                self.out.push(problem(
                    format!("{name} is a dropdown, compared with a number"),
                    Some("quote the option: 'Interested'".to_owned()),
                ));
            }
            (PropertyKind::Number { .. }, Ty::Str(v)) => {
                self.out.push(problem(
                    format!("{name} is a number, compared with the string {v:?}"),
                    Some(format!("write the number without quotes: {name} >= 7")),
                ));
            }
            (PropertyKind::Number { min, max }, Ty::Number(Some(v))) => {
                let below = min.is_some_and(|m| *v < m);
                let above = max.is_some_and(|m| *v > m);
                if below || above {
                    let label = [ObjectType::Contacts, ObjectType::Deals]
                        .into_iter()
                        .find_map(|o| self.schema.find(o, name))
                        .map_or(name.as_str(), |p| p.label.as_str());
                    let range = match (min, max) {
                        (Some(lo), Some(hi)) => {
                            format!("from {} to {}", fmt_number(*lo), fmt_number(*hi))
                        }
                        (Some(lo), None) => format!("of at least {}", fmt_number(*lo)),
                        (_, hi) => format!("of at most {}", fmt_number(hi.unwrap_or(*v))),
                    };
                    self.out.push(problem(
                        format!(
                            "{} is outside the range of {label}",
                            fmt_number(*v)
                        ),
                        Some(format!(
                            "{label} takes values {range} (its range in properties.yaml), so comparing it with {} is always true or never true",
                            fmt_number(*v)
                        )),
                    ));
                }
            }
            (PropertyKind::Text | PropertyKind::LongText, Ty::Number(_)) => {
                self.out.push(problem(
                    format!("{name} is text, compared with a number"),
                    Some("quote the value".to_owned()),
                ));
            }
            (PropertyKind::Date, Ty::Number(_)) => {
                self.out.push(problem(
                    format!("{name} is a date, compared with a number"),
                    Some(
                        "compare with a date: {{ current_date - 3 days }} or '2026-11-24'"
                            .to_owned(),
                    ),
                ));
            }
            (PropertyKind::Date, Ty::Str(v)) if crate::values::parse_date(v).is_none() => {
                self.out.push(problem(
                    format!("{name} is a date, compared with {v:?}, which is not a date"),
                    Some("write dates as 'YYYY-MM-DD'".to_owned()),
                ));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
