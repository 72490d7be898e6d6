//! The value tree: value nodes are arithmetic expressions over named constants, KPI levels and
//! other nodes; the release's effect on every node is computed exactly and given a
//! delta-method interval from the joint covariance of the KPI effects, with a bootstrap
//! cross-check.
//!
//! # Expressions
//! Numbers (`2400000`, `0.0125`, `1e6`), names, `+ - * /`, unary minus and parentheses, with
//! the usual precedence (`*` and `/` bind tighter than `+` and `-`, all left-associative). A
//! name resolves to a `[value.constants]` entry, a KPI (`[[kpi]] name`, meaning the KPI's
//! *level*) or another node. The parser is a small recursive-descent parser written here into
//! an AST because the delta method needs exact gradients with respect to the KPI levels,
//! which expression-evaluation crates do not provide; the AST is evaluated in forward-mode
//! dual numbers (value plus gradient over all KPIs), so products and quotients of affected
//! KPIs get their exact derivatives.
//!
//! # The change of a node
//! With `b` the KPI levels without the release ([`KpiEffects::baseline`]) and `d` the
//! effects, `without = f(b)`, `with = f(b + d)` and `change = with − without`: exact, also for
//! non-linear nodes (a product of two affected KPIs keeps its `d₁·d₂` term). The standard error
//! is the delta method's `sqrt(gᵀ Σ g)` with `g = ∇f(b + d)` (the gradient of `with`, hence of
//! the change, with respect to the effects at the estimate) and `Σ` =
//! [`KpiEffects::covariance`]. **The baselines are held fixed**: their sampling noise is not in
//! the interval (it is second order next to the effect's for the money of a release). The
//! interval and p-value use the normal distribution. For a tree that is linear in the KPIs
//! the delta method is exact.
//!
//! # Bootstrap cross-check
//! If the design produced joint replicates of the effects ([`KpiEffects::replicates`]), each
//! replicate is pushed through the tree; otherwise `draws` seeded draws from the normal
//! `N(d, Σ)` are (Cholesky factor of `Σ` from nalgebra; if `Σ` is only positive
//! semi-definite, the symmetric square root from its eigen-decomposition with negative
//! rounding-error eigenvalues set to zero). Draw `b` uses the ChaCha8 stream `(seed, b)` of
//! [`causalkit_stats::resample`], so the result does not depend on the thread count. The
//! cross-check interval is the percentile interval of the draws' changes.
//!
//! # Views
//! Node values are money per `[value] period`. Besides the change over the period, every node
//! has a relative view (`change / |without|`), a per-day view (`change / days in period`) and
//! an annualised view (`change × 365.25 / days in period`); a one-off effect
//! (`recurring = false`) is neither spread per day nor annualised. Every view divides or
//! multiplies the change and its interval by a positive number, so all views have the sign
//! of the change by construction.

use crate::error::{AttributionError, Result};
use crate::spec::ValueSection;
use crate::KpiEffects;
use causalkit_stats::dist::{normal_quantile, normal_sf};
use causalkit_stats::resample::replicate_rng;
use causalkit_stats::{Effect, EffectKey, EffectKind};
use nalgebra::{DMatrix, DVector};
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Days in a year for the annualised view (Julian year).
pub const DAYS_PER_YEAR: f64 = 365.25;

/// Default number of normal draws of the bootstrap cross-check when the design has no
/// replicates.
pub const DEFAULT_DRAWS: usize = 4000;

/// The horizon the money of a value node is reported over (`[value] period`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// One day.
    Day,
    /// Seven days.
    Week,
    /// A twelfth of a year (30.4375 days).
    Month,
    /// A quarter of a year (91.3125 days).
    Quarter,
    /// A year (365.25 days).
    Year,
}

impl Period {
    /// Parses `day`, `week`, `month`, `quarter` or `year`.
    pub fn parse(s: &str) -> Option<Period> {
        match s {
            "day" => Some(Period::Day),
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            "quarter" => Some(Period::Quarter),
            "year" => Some(Period::Year),
            _ => None,
        }
    }

    /// The period's name as written in the spec.
    pub fn name(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        }
    }

    /// Length in days (months and quarters as fractions of a 365.25-day year).
    pub fn days(self) -> f64 {
        match self {
            Period::Day => 1.0,
            Period::Week => 7.0,
            Period::Month => DAYS_PER_YEAR / 12.0,
            Period::Quarter => DAYS_PER_YEAR / 4.0,
            Period::Year => DAYS_PER_YEAR,
        }
    }
}

/// A binary operator of a value expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// A parsed value expression (names not yet resolved).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number literal.
    Num(f64),
    /// A name: a constant, a KPI or a node.
    Name(String),
    /// Unary minus.
    Neg(Box<Expr>),
    /// A binary operation.
    Bin(BinOp, Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Every name the expression uses, in order of first appearance.
    pub fn names(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_names(&mut out);
        out
    }

    fn collect_names(&self, out: &mut Vec<String>) {
        match self {
            Expr::Num(_) => {}
            Expr::Name(n) => {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
            Expr::Neg(e) => e.collect_names(out),
            Expr::Bin(_, a, b) => {
                a.collect_names(out);
                b.collect_names(out);
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Name(String),
    Op(char),
    LParen,
    RParen,
}

/// Splits an expression into tokens with their 1-based character positions.
fn tokenize(src: &str) -> std::result::Result<Vec<(Tok, usize)>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            // Exponent: e or E, optional sign, digits.
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    while j < chars.len() && chars[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            let text: String = chars[start..i].iter().collect();
            let v: f64 = text
                .parse()
                .map_err(|_| format!("`{text}` at character {pos} is not a number"))?;
            out.push((Tok::Num(v), pos));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Tok::Name(chars[start..i].iter().collect()), pos));
        } else if matches!(c, '+' | '-' | '*' | '/') {
            out.push((Tok::Op(c), pos));
            i += 1;
        } else if c == '(' {
            out.push((Tok::LParen, pos));
            i += 1;
        } else if c == ')' {
            out.push((Tok::RParen, pos));
            i += 1;
        } else {
            return Err(format!(
                "unexpected character `{c}` at character {pos} (allowed: numbers, names, + - * / and parentheses)"
            ));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    at: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.0)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.at).map(|t| t.1).unwrap_or(self.len + 1)
    }

    fn expr(&mut self) -> std::result::Result<Expr, String> {
        let mut lhs = self.term()?;
        while let Some(Tok::Op(c @ ('+' | '-'))) = self.peek() {
            let op = if *c == '+' { BinOp::Add } else { BinOp::Sub };
            self.at += 1;
            let rhs = self.term()?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn term(&mut self) -> std::result::Result<Expr, String> {
        let mut lhs = self.unary()?;
        while let Some(Tok::Op(c @ ('*' | '/'))) = self.peek() {
            let op = if *c == '*' { BinOp::Mul } else { BinOp::Div };
            self.at += 1;
            let rhs = self.unary()?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> std::result::Result<Expr, String> {
        match self.peek() {
            Some(Tok::Op('-')) => {
                self.at += 1;
                Ok(Expr::Neg(Box::new(self.unary()?)))
            }
            Some(Tok::Op('+')) => {
                self.at += 1;
                self.unary()
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> std::result::Result<Expr, String> {
        let pos = self.pos();
        match self.peek().cloned() {
            Some(Tok::Num(v)) => {
                self.at += 1;
                Ok(Expr::Num(v))
            }
            Some(Tok::Name(n)) => {
                self.at += 1;
                Ok(Expr::Name(n))
            }
            Some(Tok::LParen) => {
                self.at += 1;
                let e = self.expr()?;
                match self.peek() {
                    Some(Tok::RParen) => {
                        self.at += 1;
                        Ok(e)
                    }
                    _ => Err(format!(
                        "missing `)` at character {} for the `(` at character {pos}",
                        self.pos()
                    )),
                }
            }
            Some(Tok::RParen) => Err(format!("unexpected `)` at character {pos}")),
            Some(Tok::Op(c)) => Err(format!(
                "expected a number, a name or `(` at character {pos}, found `{c}`"
            )),
            None => Err(format!(
                "expression ends early at character {pos}: expected a number, a name or `(`"
            )),
        }
    }
}

/// Parses a value expression (see the module docs for the grammar). The error names the
/// character position at fault.
pub fn parse_expr(src: &str) -> std::result::Result<Expr, String> {
    let toks = tokenize(src)?;
    if toks.is_empty() {
        return Err("the expression is empty".into());
    }
    let mut p = Parser {
        toks,
        at: 0,
        len: src.chars().count(),
    };
    let e = p.expr()?;
    if p.at < p.toks.len() {
        let (t, pos) = &p.toks[p.at];
        let what = match t {
            Tok::Num(v) => format!("number {v}"),
            Tok::Name(n) => format!("name `{n}`"),
            Tok::Op(c) => format!("`{c}`"),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)` without a matching `(`".into(),
        };
        return Err(format!(
            "unexpected {what} at character {pos} (an operator is missing?)"
        ));
    }
    Ok(e)
}

/// A name resolved against the constants, KPIs and nodes.
#[derive(Debug, Clone)]
enum Node {
    Num(f64),
    Const(usize),
    Kpi(usize),
    Ref(usize),
    Neg(Box<Node>),
    Bin(BinOp, Box<Node>, Box<Node>),
}

/// A value with its exact gradient with respect to every KPI level (forward mode).
#[derive(Debug, Clone)]
struct Dual {
    v: f64,
    g: Vec<f64>,
}

impl Dual {
    fn constant(v: f64, k: usize) -> Dual {
        Dual { v, g: vec![0.0; k] }
    }
}

fn apply(op: BinOp, a: &Dual, b: &Dual) -> Dual {
    match op {
        BinOp::Add => Dual {
            v: a.v + b.v,
            g: a.g.iter().zip(&b.g).map(|(x, y)| x + y).collect(),
        },
        BinOp::Sub => Dual {
            v: a.v - b.v,
            g: a.g.iter().zip(&b.g).map(|(x, y)| x - y).collect(),
        },
        BinOp::Mul => Dual {
            v: a.v * b.v,
            g: a.g
                .iter()
                .zip(&b.g)
                .map(|(x, y)| x * b.v + a.v * y)
                .collect(),
        },
        BinOp::Div => Dual {
            v: a.v / b.v,
            g: a.g
                .iter()
                .zip(&b.g)
                .map(|(x, y)| (x * b.v - a.v * y) / (b.v * b.v))
                .collect(),
        },
    }
}

/// One value node after resolution.
#[derive(Debug, Clone)]
struct ResolvedNode {
    name: String,
    expr_text: String,
    ast: Node,
}

/// The value tree of a release spec: constants, KPIs and nodes, validated (every name
/// defined, no cycle, no name collision) and ordered so that every node comes after the
/// nodes it uses.
#[derive(Debug, Clone)]
pub struct ValueTree {
    period: Period,
    recurring: bool,
    kpi_names: Vec<String>,
    const_names: Vec<String>,
    const_values: Vec<f64>,
    /// In spec order (the output order).
    nodes: Vec<ResolvedNode>,
    /// Evaluation order: indices into `nodes`, dependencies first.
    order: Vec<usize>,
    draws: usize,
    seed: u64,
}

/// The placeholder file name in errors raised before the spec file is known;
/// [`AttributionError::with_file`] replaces it.
pub(crate) const NO_FILE: &str = "release spec";

fn spec_err(key: impl Into<String>, message: impl Into<String>) -> AttributionError {
    AttributionError::Spec {
        file: NO_FILE.into(),
        key: key.into(),
        message: message.into(),
    }
}

impl ValueTree {
    /// Builds and validates the tree of a `[value]` section for the given KPI names (spec
    /// order, the order of [`KpiEffects::effects`]).
    ///
    /// Errors ([`AttributionError::Spec`], naming the key): an unknown `period`
    /// (`value.period`); a non-finite constant (`value.constants.<name>`); a constant or node
    /// named like a KPI, a node named like a constant, or two nodes with one name
    /// (`value.node.<name>.name`); an expression that does not parse or uses an undefined name
    /// (`value.node.<name>.expr`, naming the unknown name); a cycle (naming the cycle).
    pub fn from_spec(section: &ValueSection, kpi_names: &[String]) -> Result<ValueTree> {
        let period = Period::parse(&section.period).ok_or_else(|| {
            spec_err(
                "value.period",
                format!(
                    "unknown period `{}` (expected day, week, month, quarter or year)",
                    section.period
                ),
            )
        })?;
        let kpi_set: BTreeSet<&str> = kpi_names.iter().map(String::as_str).collect();
        let mut const_names = Vec::new();
        let mut const_values = Vec::new();
        for (name, &v) in &section.constants {
            let key = format!("value.constants.{name}");
            if !v.is_finite() {
                return Err(spec_err(
                    key,
                    format!("the constant is {v}, not a finite number"),
                ));
            }
            if kpi_set.contains(name.as_str()) {
                return Err(spec_err(
                    key,
                    format!("constant `{name}` has the name of a KPI; rename one of them"),
                ));
            }
            if !is_identifier(name) {
                return Err(spec_err(
                    key,
                    format!("`{name}` is not a usable name in expressions (letters, digits and _, not starting with a digit)"),
                ));
            }
            const_names.push(name.clone());
            const_values.push(v);
        }
        // Node names.
        let mut node_index: BTreeMap<String, usize> = BTreeMap::new();
        for (i, n) in section.node.iter().enumerate() {
            let key = format!("value.node.{}.name", n.name);
            if !is_identifier(&n.name) {
                return Err(spec_err(
                    key,
                    format!("`{}` is not a usable node name (letters, digits and _, not starting with a digit)", n.name),
                ));
            }
            if kpi_set.contains(n.name.as_str()) {
                return Err(spec_err(
                    key,
                    format!("node `{}` has the name of a KPI; rename the node", n.name),
                ));
            }
            if section.constants.contains_key(&n.name) {
                return Err(spec_err(
                    key,
                    format!(
                        "node `{}` has the name of a constant; rename one of them",
                        n.name
                    ),
                ));
            }
            if node_index.insert(n.name.clone(), i).is_some() {
                return Err(spec_err(
                    key,
                    format!("two value nodes are named `{}`", n.name),
                ));
            }
        }
        // Parse and resolve.
        let mut nodes = Vec::with_capacity(section.node.len());
        let mut deps: Vec<Vec<usize>> = Vec::with_capacity(section.node.len());
        for n in &section.node {
            let key = format!("value.node.{}.expr", n.name);
            let expr = parse_expr(&n.expr).map_err(|m| spec_err(&key, m))?;
            let mut d = Vec::new();
            let ast = resolve(&expr, kpi_names, &const_names, &node_index, &mut d)
                .map_err(|unknown| {
                    spec_err(
                        &key,
                        format!(
                            "unknown name `{unknown}`: not a [value.constants] entry, a [[kpi]] name or a [[value.node]] name"
                        ),
                    )
                })?;
            d.sort_unstable();
            d.dedup();
            deps.push(d);
            nodes.push(ResolvedNode {
                name: n.name.clone(),
                expr_text: n.expr.clone(),
                ast,
            });
        }
        let order = topological_order(&nodes, &deps)?;
        Ok(ValueTree {
            period,
            recurring: section.recurring.unwrap_or(true),
            kpi_names: kpi_names.to_vec(),
            const_names,
            const_values,
            nodes,
            order,
            draws: DEFAULT_DRAWS,
            seed: 0,
        })
    }

    /// Sets the bootstrap cross-check's number of normal draws (used when the design has no
    /// replicates) and its seed (builder style). Defaults: [`DEFAULT_DRAWS`], seed 0.
    pub fn with_bootstrap(mut self, draws: usize, seed: u64) -> ValueTree {
        self.draws = draws;
        self.seed = seed;
        self
    }

    /// The reporting period.
    pub fn period(&self) -> Period {
        self.period
    }

    /// Whether the effect recurs every period (`[value] recurring`, default true).
    pub fn recurring(&self) -> bool {
        self.recurring
    }

    /// When node `name` is a signed sum of other nodes (`a + b - c`, parentheses and unary
    /// minus allowed, nothing else), those nodes with their signs, in order; `None` otherwise
    /// (for a money waterfall, whose parts must add up to the node).
    pub fn additive_parts(&self, name: &str) -> Option<Vec<(String, f64)>> {
        fn walk(n: &Node, sign: f64, out: &mut Vec<(usize, f64)>) -> bool {
            match n {
                Node::Ref(i) => {
                    out.push((*i, sign));
                    true
                }
                Node::Neg(a) => walk(a, -sign, out),
                Node::Bin(BinOp::Add, a, b) => walk(a, sign, out) && walk(b, sign, out),
                Node::Bin(BinOp::Sub, a, b) => walk(a, sign, out) && walk(b, -sign, out),
                _ => false,
            }
        }
        let node = self.nodes.iter().find(|n| n.name == name)?;
        let mut parts = Vec::new();
        if !walk(&node.ast, 1.0, &mut parts) || parts.len() < 2 {
            return None;
        }
        Some(
            parts
                .into_iter()
                .map(|(i, s)| (self.nodes[i].name.clone(), s))
                .collect(),
        )
    }

    /// The nodes no other node uses (the tops of the tree), in spec order.
    pub fn roots(&self) -> Vec<String> {
        let mut used = vec![false; self.nodes.len()];
        fn mark(n: &Node, used: &mut [bool]) {
            match n {
                Node::Ref(i) => used[*i] = true,
                Node::Neg(a) => mark(a, used),
                Node::Bin(_, a, b) => {
                    mark(a, used);
                    mark(b, used);
                }
                _ => {}
            }
        }
        for n in &self.nodes {
            mark(&n.ast, &mut used);
        }
        self.nodes
            .iter()
            .zip(used)
            .filter(|(_, u)| !u)
            .map(|(n, _)| n.name.clone())
            .collect()
    }

    /// The node names in spec order.
    pub fn node_names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name.clone()).collect()
    }

    /// The KPI names the tree was built for, in order.
    pub fn kpi_names(&self) -> &[String] {
        &self.kpi_names
    }

    /// The value of a constant, if defined.
    pub fn constant(&self, name: &str) -> Option<f64> {
        self.const_names
            .iter()
            .position(|c| c == name)
            .map(|i| self.const_values[i])
    }

    /// Constants with `overrides` applied; an override naming no constant is an error.
    fn constants_with(&self, overrides: &BTreeMap<String, f64>) -> Result<Vec<f64>> {
        let mut c = self.const_values.clone();
        for (name, &v) in overrides {
            let i = self
                .const_names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| {
                    AttributionError::Invalid(format!(
                    "override of value constant `{name}`: no such constant in [value.constants]"
                ))
                })?;
            if !v.is_finite() {
                return Err(AttributionError::Invalid(format!(
                    "override of value constant `{name}` is {v}, not a finite number"
                )));
            }
            c[i] = v;
        }
        Ok(c)
    }

    /// Every node's value and gradient with respect to the KPI levels at `levels`, in spec
    /// order. Non-finite values (a division by zero) are returned as they are; callers check.
    fn eval_all(&self, consts: &[f64], levels: &[f64]) -> Vec<Dual> {
        let k = levels.len();
        let mut vals: Vec<Option<Dual>> = vec![None; self.nodes.len()];
        for &i in &self.order {
            let d = eval(&self.nodes[i].ast, consts, levels, &vals, k);
            vals[i] = Some(d);
        }
        vals.into_iter()
            .map(|v| v.expect("topological order covers every node"))
            .collect()
    }

    /// Every node's value at the given KPI levels (spec order), with `overrides` replacing
    /// constants. Errors name the node whose value is not finite.
    pub fn evaluate(&self, levels: &[f64], overrides: &BTreeMap<String, f64>) -> Result<Vec<f64>> {
        self.check_len(levels.len(), "KPI levels")?;
        let consts = self.constants_with(overrides)?;
        let vals = self.eval_all(&consts, levels);
        for (n, v) in self.nodes.iter().zip(&vals) {
            self.check_finite(n, v.v, levels, "")?;
        }
        Ok(vals.into_iter().map(|d| d.v).collect())
    }

    fn check_len(&self, got: usize, what: &str) -> Result<()> {
        if got != self.kpi_names.len() {
            return Err(AttributionError::Invalid(format!(
                "value tree: {got} {what} for {} KPIs ({})",
                self.kpi_names.len(),
                self.kpi_names.join(", ")
            )));
        }
        Ok(())
    }

    fn check_finite(&self, n: &ResolvedNode, v: f64, levels: &[f64], at: &str) -> Result<()> {
        if v.is_finite() {
            return Ok(());
        }
        let lv: Vec<String> = self
            .kpi_names
            .iter()
            .zip(levels)
            .map(|(k, l)| format!("{k} = {l}"))
            .collect();
        Err(AttributionError::Invalid(format!(
            "value node `{}` (`{}`) is {v} at the KPI levels {}{at} (a division by zero?)",
            n.name,
            n.expr_text,
            lv.join(", ")
        )))
    }

    /// The change of every node caused by the release (spec order): exact `with − without`,
    /// a delta-method interval at level `1 − alpha` from the joint covariance (baselines held
    /// fixed), a bootstrap cross-check and the relative, per-day and annualised views (see the
    /// module docs). `overrides` replace value constants (e.g. the volume, for the model-error
    /// ranking).
    ///
    /// `effects.effects` must be labelled with the tree's KPI names in the same order.
    pub fn changes(
        &self,
        effects: &KpiEffects,
        overrides: &BTreeMap<String, f64>,
        alpha: f64,
    ) -> Result<Vec<NodeChange>> {
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(AttributionError::Invalid(format!(
                "alpha must lie in (0, 1), got {alpha}"
            )));
        }
        let k = self.kpi_names.len();
        self.check_len(effects.effects.len(), "KPI effects")?;
        self.check_len(effects.baseline.len(), "KPI baselines")?;
        for (e, name) in effects.effects.iter().zip(&self.kpi_names) {
            if &e.label != name {
                return Err(AttributionError::Invalid(format!(
                    "value tree: KPI effect labelled `{}` where KPI `{name}` was expected (effects must follow the [[kpi]] order)",
                    e.label
                )));
            }
            if !e.estimate.is_finite() {
                return Err(AttributionError::Invalid(format!(
                    "value tree: the effect on KPI `{name}` is {}",
                    e.estimate
                )));
            }
        }
        if let Some(i) = effects.baseline.iter().position(|b| !b.is_finite()) {
            return Err(AttributionError::Invalid(format!(
                "value tree: the baseline of KPI `{}` is {}",
                self.kpi_names[i], effects.baseline[i]
            )));
        }
        let cov = &effects.covariance;
        if cov.nrows() != k || cov.ncols() != k {
            return Err(AttributionError::Invalid(format!(
                "value tree: the KPI effects' covariance is {}x{}, expected {k}x{k}",
                cov.nrows(),
                cov.ncols()
            )));
        }
        if cov.iter().any(|v| !v.is_finite()) {
            return Err(AttributionError::Invalid(
                "value tree: the KPI effects' covariance has a non-finite entry".into(),
            ));
        }
        let consts = self.constants_with(overrides)?;
        let base = &effects.baseline;
        let d: Vec<f64> = effects.effects.iter().map(|e| e.estimate).collect();
        let with_levels: Vec<f64> = base.iter().zip(&d).map(|(b, x)| b + x).collect();
        let without = self.eval_all(&consts, base);
        let with = self.eval_all(&consts, &with_levels);
        for (i, n) in self.nodes.iter().enumerate() {
            self.check_finite(n, without[i].v, base, " (without the release)")?;
            self.check_finite(n, with[i].v, &with_levels, " (with the release)")?;
        }
        let z = normal_quantile(1.0 - alpha / 2.0)?;
        let boot = self.bootstrap(effects, &consts, &without, alpha)?;
        let mut out = Vec::with_capacity(self.nodes.len());
        for (i, n) in self.nodes.iter().enumerate() {
            let g = DVector::from_column_slice(&with[i].g);
            let var = (g.transpose() * cov * &g)[(0, 0)];
            // Rounding can make a zero quadratic form slightly negative.
            let se = var.max(0.0).sqrt();
            let change = with[i].v - without[i].v;
            let (lo, hi, p) = if se > 0.0 {
                (
                    change - z * se,
                    change + z * se,
                    Some(2.0 * normal_sf((change / se).abs())),
                )
            } else {
                (change, change, None)
            };
            let label = format!("value:{}", n.name);
            let effect = Effect {
                label: label.clone(),
                estimate: change,
                std_error: Some(se),
                ci_low: Some(lo),
                ci_high: Some(hi),
                p_value: p,
                key: EffectKey::kind(EffectKind::Absolute)
                    .metric(label)
                    .variant("delta"),
            };
            let views = self.views(change, lo, hi, without[i].v);
            out.push(NodeChange {
                name: n.name.clone(),
                expr: n.expr_text.clone(),
                without: without[i].v,
                with: with[i].v,
                change: effect,
                gradient: with[i].g.clone(),
                bootstrap: boot[i].clone(),
                views,
            });
        }
        Ok(out)
    }

    fn views(&self, change: f64, lo: f64, hi: f64, without: f64) -> ValueViews {
        let scaled = |s: f64| ViewValue {
            estimate: change * s,
            ci_low: lo * s,
            ci_high: hi * s,
        };
        let relative = if without.abs() > 0.0 && without.is_finite() {
            Some(scaled(1.0 / without.abs()))
        } else {
            None
        };
        let days = self.period.days();
        let (per_day, annualised) = if self.recurring {
            (Some(scaled(1.0 / days)), Some(scaled(DAYS_PER_YEAR / days)))
        } else {
            (None, None)
        };
        ValueViews {
            period: self.period,
            recurring: self.recurring,
            over_period: scaled(1.0),
            relative,
            per_day,
            annualised,
        }
    }

    /// The bootstrap cross-check for every node (spec order).
    fn bootstrap(
        &self,
        effects: &KpiEffects,
        consts: &[f64],
        without: &[Dual],
        alpha: f64,
    ) -> Result<Vec<BootstrapCheck>> {
        let k = self.kpi_names.len();
        let (draws, method): (Vec<Vec<f64>>, String) = match &effects.replicates {
            Some(r) => {
                if r.ncols() != k {
                    return Err(AttributionError::Invalid(format!(
                        "value tree: the effect replicates have {} columns for {k} KPIs",
                        r.ncols()
                    )));
                }
                let rows = (0..r.nrows())
                    .map(|b| (0..k).map(|j| r[(b, j)]).collect())
                    .collect();
                (
                    rows,
                    format!(
                        "the design's {} joint replicates of the KPI effects ({}) pushed through the tree",
                        r.nrows(),
                        effects.covariance_source
                    ),
                )
            }
            None => {
                let (root, how) = covariance_root(&effects.covariance)?;
                let mean: Vec<f64> = effects.effects.iter().map(|e| e.estimate).collect();
                let rows = (0..self.draws)
                    .map(|b| {
                        let mut rng = replicate_rng(self.seed, b as u64);
                        let zv = DVector::from_iterator(
                            k,
                            (0..k).map(|_| StandardNormal.sample(&mut rng)),
                        );
                        let x = &root * zv;
                        (0..k).map(|j| mean[j] + x[j]).collect()
                    })
                    .collect();
                (
                    rows,
                    format!(
                        "{} seeded draws (seed {}) from N(effects, covariance), {how}",
                        self.draws, self.seed
                    ),
                )
            }
        };
        let n_nodes = self.nodes.len();
        let mut per_node: Vec<Vec<f64>> = vec![Vec::with_capacity(draws.len()); n_nodes];
        let mut non_finite = vec![0usize; n_nodes];
        for row in &draws {
            let levels: Vec<f64> = effects
                .baseline
                .iter()
                .zip(row)
                .map(|(b, x)| b + x)
                .collect();
            let vals = self.eval_all(consts, &levels);
            for i in 0..n_nodes {
                let c = vals[i].v - without[i].v;
                if c.is_finite() {
                    per_node[i].push(c);
                } else {
                    non_finite[i] += 1;
                }
            }
        }
        let mut out = Vec::with_capacity(n_nodes);
        for i in 0..n_nodes {
            let v = &per_node[i];
            let (lo, hi, sd) = if v.len() >= 2 {
                (
                    Some(causalkit_stats::resample::quantile(v, alpha / 2.0)?),
                    Some(causalkit_stats::resample::quantile(v, 1.0 - alpha / 2.0)?),
                    Some(causalkit_stats::resample::std_dev(v)?),
                )
            } else {
                (None, None, None)
            };
            out.push(BootstrapCheck {
                method: method.clone(),
                draws: v.len(),
                non_finite: non_finite[i],
                ci_low: lo,
                ci_high: hi,
                std_dev: sd,
            });
        }
        Ok(out)
    }
}

/// A matrix `L` with `L Lᵀ = Σ`: Cholesky if `Σ` is positive definite, else the symmetric
/// eigen square root with negative (rounding-error) eigenvalues set to zero. Returns the
/// method in words. A clearly negative eigenvalue (below −1e-10 × the largest) is an error.
fn covariance_root(cov: &DMatrix<f64>) -> Result<(DMatrix<f64>, &'static str)> {
    if cov.nrows() == 0 {
        return Ok((cov.clone(), "no KPIs"));
    }
    if let Some(ch) = nalgebra::Cholesky::new(cov.clone()) {
        return Ok((ch.l(), "Cholesky factor of the covariance (nalgebra)"));
    }
    let sym = (cov + cov.transpose()) * 0.5;
    let eig = nalgebra::SymmetricEigen::new(sym);
    let max = eig.eigenvalues.iter().cloned().fold(0.0f64, f64::max);
    if let Some(min) = eig
        .eigenvalues
        .iter()
        .cloned()
        .find(|&l| l < -1e-10 * max.max(f64::MIN_POSITIVE))
    {
        return Err(AttributionError::Invalid(format!(
            "value tree: the KPI effects' covariance is not positive semi-definite (eigenvalue {min})"
        )));
    }
    let sqrt_l = DMatrix::from_diagonal(&eig.eigenvalues.map(|l| l.max(0.0).sqrt()));
    Ok((
        &eig.eigenvectors * sqrt_l,
        "symmetric eigen square root of the (singular) covariance (nalgebra)",
    ))
}

fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    match c.next() {
        Some(f) if f.is_alphabetic() || f == '_' => c.all(|x| x.is_alphanumeric() || x == '_'),
        _ => false,
    }
}

/// Resolves names; `Err(name)` for an undefined name. Collects node dependencies.
fn resolve(
    e: &Expr,
    kpis: &[String],
    consts: &[String],
    nodes: &BTreeMap<String, usize>,
    deps: &mut Vec<usize>,
) -> std::result::Result<Node, String> {
    Ok(match e {
        Expr::Num(v) => Node::Num(*v),
        Expr::Name(n) => {
            if let Some(i) = kpis.iter().position(|k| k == n) {
                Node::Kpi(i)
            } else if let Some(i) = consts.iter().position(|c| c == n) {
                Node::Const(i)
            } else if let Some(&i) = nodes.get(n) {
                deps.push(i);
                Node::Ref(i)
            } else {
                return Err(n.clone());
            }
        }
        Expr::Neg(a) => Node::Neg(Box::new(resolve(a, kpis, consts, nodes, deps)?)),
        Expr::Bin(op, a, b) => Node::Bin(
            *op,
            Box::new(resolve(a, kpis, consts, nodes, deps)?),
            Box::new(resolve(b, kpis, consts, nodes, deps)?),
        ),
    })
}

fn eval(node: &Node, consts: &[f64], levels: &[f64], vals: &[Option<Dual>], k: usize) -> Dual {
    match node {
        Node::Num(v) => Dual::constant(*v, k),
        Node::Const(i) => Dual::constant(consts[*i], k),
        Node::Kpi(i) => {
            let mut d = Dual::constant(levels[*i], k);
            d.g[*i] = 1.0;
            d
        }
        Node::Ref(i) => vals[*i]
            .clone()
            .expect("a node is evaluated after the nodes it uses"),
        Node::Neg(a) => {
            let d = eval(a, consts, levels, vals, k);
            Dual {
                v: -d.v,
                g: d.g.iter().map(|x| -x).collect(),
            }
        }
        Node::Bin(op, a, b) => {
            let x = eval(a, consts, levels, vals, k);
            let y = eval(b, consts, levels, vals, k);
            apply(*op, &x, &y)
        }
    }
}

/// Dependencies-first order of the nodes (depth-first search); a cycle is a spec error naming
/// it, e.g. `a -> b -> a`.
fn topological_order(nodes: &[ResolvedNode], deps: &[Vec<usize>]) -> Result<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let n = nodes.len();
    let mut mark = vec![Mark::New; n];
    let mut order = Vec::with_capacity(n);
    let mut stack: Vec<usize> = Vec::new();
    fn visit(
        i: usize,
        nodes: &[ResolvedNode],
        deps: &[Vec<usize>],
        mark: &mut [Mark],
        stack: &mut Vec<usize>,
        order: &mut Vec<usize>,
    ) -> Result<()> {
        match mark[i] {
            Mark::Done => return Ok(()),
            Mark::Active => {
                let start = stack.iter().position(|&s| s == i).unwrap_or(0);
                let mut cycle: Vec<&str> = stack[start..]
                    .iter()
                    .map(|&s| nodes[s].name.as_str())
                    .collect();
                cycle.push(nodes[i].name.as_str());
                return Err(spec_err(
                    format!("value.node.{}.expr", nodes[i].name),
                    format!("the value tree has a cycle: {}", cycle.join(" -> ")),
                ));
            }
            Mark::New => {}
        }
        mark[i] = Mark::Active;
        stack.push(i);
        for &j in &deps[i] {
            visit(j, nodes, deps, mark, stack, order)?;
        }
        stack.pop();
        mark[i] = Mark::Done;
        order.push(i);
        Ok(())
    }
    for i in 0..n {
        visit(i, nodes, deps, &mut mark, &mut stack, &mut order)?;
    }
    Ok(order)
}

/// The bootstrap cross-check of one node's change.
#[derive(Debug, Clone, Serialize)]
pub struct BootstrapCheck {
    /// How the draws were made (the design's joint replicates, or normal draws and how).
    pub method: String,
    /// Draws whose change was finite (those the interval uses).
    pub draws: usize,
    /// Draws whose change was not finite (e.g. a denominator KPI drawn at zero), left out.
    pub non_finite: usize,
    /// Lower percentile (alpha/2) of the draws' changes.
    pub ci_low: Option<f64>,
    /// Upper percentile (1 − alpha/2) of the draws' changes.
    pub ci_high: Option<f64>,
    /// Standard deviation of the draws' changes.
    pub std_dev: Option<f64>,
}

/// A number with its interval in one view.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ViewValue {
    /// The change in this view.
    pub estimate: f64,
    /// Lower end of its interval.
    pub ci_low: f64,
    /// Upper end of its interval.
    pub ci_high: f64,
}

/// One node's change in every view; each is the change and its delta-method interval times a
/// positive number, so every view has the sign of the change.
#[derive(Debug, Clone, Serialize)]
pub struct ValueViews {
    /// The reporting period of the node values.
    pub period: Period,
    /// Whether the effect recurs every period.
    pub recurring: bool,
    /// The change over one period (money per period).
    pub over_period: ViewValue,
    /// `change / |without|` (None when the node is zero without the release).
    pub relative: Option<ViewValue>,
    /// The change per day (None for a one-off effect).
    pub per_day: Option<ViewValue>,
    /// The change over a year (None for a one-off effect, which is not annualised).
    pub annualised: Option<ViewValue>,
}

/// The release's effect on one value node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeChange {
    /// The node's name.
    pub name: String,
    /// Its expression as written in the spec.
    pub expr: String,
    /// The node at the KPI levels without the release.
    pub without: f64,
    /// The node at the KPI levels with the release.
    pub with: f64,
    /// `with − without` with its delta-method interval, labelled `"value:" + name`.
    pub change: Effect,
    /// ∂with/∂effect per KPI at the estimate (what the delta method uses).
    pub gradient: Vec<f64>,
    /// The bootstrap cross-check.
    pub bootstrap: BootstrapCheck,
    /// Relative, per-day and annualised views.
    pub views: ValueViews,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_precedence_and_unary_minus() {
        let e = parse_expr("a + b * -c / (2 - d)").unwrap();
        assert_eq!(e.names(), vec!["a", "b", "c", "d"]);
        let Expr::Bin(BinOp::Add, _, rhs) = e else {
            panic!("top is +")
        };
        assert!(matches!(*rhs, Expr::Bin(BinOp::Div, _, _)));
        assert!(parse_expr("1e3*x").is_ok());
    }

    #[test]
    fn parse_errors_name_the_position() {
        assert!(parse_expr("a +").unwrap_err().contains("character 4"));
        assert!(parse_expr("(a + b").unwrap_err().contains("missing `)`"));
        assert!(parse_expr("a b")
            .unwrap_err()
            .contains("name `b` at character 3"));
        assert!(parse_expr("a % b").unwrap_err().contains("`%`"));
        assert!(parse_expr("  ").unwrap_err().contains("empty"));
    }
}
