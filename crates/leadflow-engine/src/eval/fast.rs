//! A direct evaluator for the expressions the spec's conditions and templates use, built from
//! minijinja's own syntax tree and using minijinja's own value comparisons, so it gives
//! minijinja's answers without a template render per condition. Expressions it does not
//! know (filters, slices, loops, ...) are left to minijinja: `compile` answers `None`.
//!
//! Covered: names, constants, `contact.x` / `deal.x`, `==` `!=` `<` `<=` `>` `>=` (also
//! chained), `and` `or` `not`, unary minus, `in [...]` / `not in [...]` over a constant
//! list, `is defined` / `is undefined` / `is none`, and `add_days(date, n)`. Templates are
//! text with `{{ … }}` holes made of those expressions.

use minijinja::Value;
use minijinja::machinery::{ast, parse_expr};

/// A compiled expression.
#[derive(Clone, Debug)]
pub(super) enum Expr {
    Var(String),
    Attr(String, String),
    Const(Value),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(Box<Expr>, Vec<(Op, Expr)>),
    In(Box<Expr>, Vec<Value>, bool),
    Defined(Box<Expr>, bool),
    IsNone(Box<Expr>),
    AddDays(Box<Expr>, Box<Expr>),
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Op {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

/// Where names are looked up.
pub(super) trait Scope {
    fn var(&self, name: &str) -> Value;
    fn attr(&self, object: &str, name: &str) -> Value;
}

fn list(items: &[ast::Expr<'_>]) -> Option<Vec<Value>> {
    items
        .iter()
        .map(|i| match i {
            ast::Expr::Const(c) => Some(c.value.clone()),
            _ => None,
        })
        .collect()
}

fn op(kind: ast::BinOpKind) -> Option<Op> {
    Some(match kind {
        ast::BinOpKind::Eq => Op::Eq,
        ast::BinOpKind::Ne => Op::Ne,
        ast::BinOpKind::Lt => Op::Lt,
        ast::BinOpKind::Lte => Op::Lte,
        ast::BinOpKind::Gt => Op::Gt,
        ast::BinOpKind::Gte => Op::Gte,
        _ => return None,
    })
}

fn build(e: &ast::Expr<'_>) -> Option<Expr> {
    Some(match e {
        ast::Expr::Var(v) => Expr::Var(v.id.to_owned()),
        ast::Expr::Const(c) => Expr::Const(c.value.clone()),
        ast::Expr::GetAttr(g) => match &g.expr {
            ast::Expr::Var(v) => Expr::Attr(v.id.to_owned(), g.name.to_owned()),
            _ => return None,
        },
        ast::Expr::UnaryOp(u) => match u.op {
            ast::UnaryOpKind::Not => Expr::Not(Box::new(build(&u.expr)?)),
            ast::UnaryOpKind::Neg => Expr::Neg(Box::new(build(&u.expr)?)),
        },
        ast::Expr::BinOp(b) => {
            let left = Box::new(build(&b.left)?);
            match b.op {
                ast::BinOpKind::ScAnd => Expr::And(left, Box::new(build(&b.right)?)),
                ast::BinOpKind::ScOr => Expr::Or(left, Box::new(build(&b.right)?)),
                ast::BinOpKind::In => match &b.right {
                    ast::Expr::List(l) => Expr::In(left, list(&l.items)?, false),
                    _ => return None,
                },
                k => Expr::Cmp(left, vec![(op(k)?, build(&b.right)?)]),
            }
        }
        ast::Expr::Compare(c) => {
            let left = Box::new(build(&c.expr)?);
            if let [only] = c.ops.as_slice() {
                match (only.op, &only.expr) {
                    (ast::CompareOpKind::In, ast::Expr::List(l)) => {
                        return Some(Expr::In(left, list(&l.items)?, false));
                    }
                    (ast::CompareOpKind::NotIn, ast::Expr::List(l)) => {
                        return Some(Expr::In(left, list(&l.items)?, true));
                    }
                    _ => {}
                }
            }
            let ops = c
                .ops
                .iter()
                .map(|o| {
                    let k = match o.op {
                        ast::CompareOpKind::Eq => Op::Eq,
                        ast::CompareOpKind::Ne => Op::Ne,
                        ast::CompareOpKind::Lt => Op::Lt,
                        ast::CompareOpKind::Lte => Op::Lte,
                        ast::CompareOpKind::Gt => Op::Gt,
                        ast::CompareOpKind::Gte => Op::Gte,
                        _ => return None,
                    };
                    Some((k, build(&o.expr)?))
                })
                .collect::<Option<Vec<_>>>()?;
            Expr::Cmp(left, ops)
        }
        ast::Expr::Test(t) if t.args.is_empty() => {
            let inner = Box::new(build(&t.expr)?);
            match t.name {
                "defined" => Expr::Defined(inner, true),
                "undefined" => Expr::Defined(inner, false),
                "none" => Expr::IsNone(inner),
                _ => return None,
            }
        }
        ast::Expr::Call(c) => match (&c.expr, c.args.as_slice()) {
            (ast::Expr::Var(v), [ast::CallArg::Pos(a), ast::CallArg::Pos(b)])
                if v.id == "add_days" =>
            {
                Expr::AddDays(Box::new(build(a)?), Box::new(build(b)?))
            }
            _ => return None,
        },
        _ => return None,
    })
}

/// Compiles an expression, or `None` when minijinja must evaluate it.
pub(super) fn compile(src: &str) -> Option<Expr> {
    build(&parse_expr(src).ok()?)
}

fn compare(a: &Value, op: Op, b: &Value) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Lte => a <= b,
        Op::Gt => a > b,
        Op::Gte => a >= b,
    }
}

impl Expr {
    /// Evaluates like minijinja's engine in its default (lenient) mode. `None` when
    /// minijinja would fail (a bad date in `add_days`, a minus on text).
    pub(super) fn eval(&self, s: &dyn Scope) -> Option<Value> {
        Some(match self {
            Self::Var(n) => s.var(n),
            Self::Attr(o, n) => s.attr(o, n),
            Self::Const(v) => v.clone(),
            Self::Not(e) => Value::from(!e.eval(s)?.is_true()),
            Self::Neg(e) => {
                let v = e.eval(s)?;
                if let Some(i) = v.as_i64() {
                    Value::from(-i)
                } else {
                    Value::from(-f64::try_from(v).ok()?)
                }
            }
            Self::And(a, b) => {
                let l = a.eval(s)?;
                if l.is_true() { b.eval(s)? } else { l }
            }
            Self::Or(a, b) => {
                let l = a.eval(s)?;
                if l.is_true() { l } else { b.eval(s)? }
            }
            Self::Cmp(first, ops) => {
                let mut left = first.eval(s)?;
                for (op, e) in ops {
                    let right = e.eval(s)?;
                    if !compare(&left, *op, &right) {
                        return Some(Value::from(false));
                    }
                    left = right;
                }
                Value::from(true)
            }
            Self::In(e, items, negated) => {
                let v = e.eval(s)?;
                Value::from(items.contains(&v) != *negated)
            }
            Self::Defined(e, want) => Value::from(e.eval(s)?.is_undefined() != *want),
            Self::IsNone(e) => Value::from(e.eval(s)?.is_none()),
            Self::AddDays(d, n) => {
                let date = d.eval(s)?;
                let days = n.eval(s)?.as_i64()?;
                let parsed: jiff::civil::Date = date.as_str()?.parse().ok()?;
                Value::from(
                    parsed
                        .checked_add(jiff::Span::new().days(days))
                        .ok()?
                        .to_string(),
                )
            }
        })
    }
}

/// A template as text and holes.
#[derive(Clone, Debug)]
pub(super) enum Piece {
    Text(String),
    Hole(Expr),
}

/// Compiles a translated template (`text {{ expr }} text`), or `None` when it holds
/// anything but expression holes.
pub(super) fn compile_template(src: &str) -> Option<Vec<Piece>> {
    if src.contains("{%") || src.contains("{#") {
        return None;
    }
    let mut pieces = Vec::new();
    let mut rest = src;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_owned()));
        }
        let close = rest[open..].find("}}")?;
        let inner = rest[open + 2..open + close].trim();
        if inner.starts_with('-') || inner.ends_with('-') {
            return None;
        }
        pieces.push(Piece::Hole(compile(inner)?));
        rest = &rest[open + close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    Some(pieces)
}

/// Renders compiled pieces as minijinja would (undefined renders as nothing).
pub(super) fn render(pieces: &[Piece], s: &dyn Scope) -> Option<String> {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Hole(e) => {
                let v = e.eval(s)?;
                if !v.is_undefined() {
                    out.push_str(&v.to_string());
                }
            }
        }
    }
    Some(out)
}
