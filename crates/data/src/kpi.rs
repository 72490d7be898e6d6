//! KPI definitions as data.
//!
//! A KPI is a ratio of sums `Σ numerator / Σ denominator` over the rows (or, at a coarser
//! analysis unit, over the units' sums). Each kind defines the per-row numerator and
//! denominator:
//!
//! | kind | spec | numerator | denominator |
//! |---|---|---|---|
//! | mean | `csat=mean(csat)` | x | 1 |
//! | proportion | `fcr=proportion(fcr)` (x must be 0/1) | x | 1 |
//! | ratio of sums | `aht=ratio(handle_seconds, count)` or `aov=ratio(revenue, orders)` | num | den (or 1 for `count`) |
//! | NPS | `nps=nps(score)` (0–10) | +1 if 9–10, −1 if 0–6, else 0 | 1 |
//! | top-box share | `top2=topbox(csat, 4)` | 1 if x ≥ threshold | 1 |
//! | weighted composite | `r=composite(0.1*click + 0.3*add_to_cart + 1*purchase - 0.5*return)` | Σ wⱼ xⱼ | 1 |
//!
//! So a mean-type KPI is a ratio whose denominator is the row count, and AHT "handle seconds
//! per contact at the agent level" is `ratio(handle_seconds, count)` aggregated by agent. The
//! NPS is the mean of the ±1 score, i.e. share of promoters minus share of detractors.

use crate::dataset::{missing_mask, Dataset, MissingPolicy};
use crate::error::{DataError, Result};
use serde::{Deserialize, Serialize};

pub use causalkit_stats::kpi::{Denominator, KpiKind};

/// A named KPI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kpi {
    /// The KPI's name (e.g. `"aht"`).
    pub name: String,
    /// How it is computed.
    #[serde(flatten)]
    pub kind: KpiKind,
}

/// A position-aware parse error: the reason, the column (1-based, in characters) and the spec
/// with a caret under the column.
fn bad_at(spec: &str, at: usize, reason: impl std::fmt::Display) -> DataError {
    let col = spec[..at.min(spec.len())].chars().count() + 1;
    DataError::InvalidKpi {
        spec: spec.to_string(),
        reason: format!(
            "{reason} at column {col}\n  {spec}\n  {}^",
            " ".repeat(col - 1)
        ),
    }
}

/// A token of a KPI definition, with its byte offset in the spec.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Plus,
    Minus,
    Star,
    /// A number as written (parsed and checked where it is used).
    Number(String),
    /// A name: a run of characters that are not operators, parentheses, commas or spaces
    /// (words separated by spaces are joined by the parser), or a `backtick-quoted` name.
    Word(String),
    Quoted(String),
}

fn describe(t: Option<&(Tok, usize)>) -> String {
    match t.map(|(t, _)| t) {
        None => "the end".into(),
        Some(Tok::LParen) => "'('".into(),
        Some(Tok::RParen) => "')'".into(),
        Some(Tok::Comma) => "','".into(),
        Some(Tok::Plus) => "'+'".into(),
        Some(Tok::Minus) => "'-'".into(),
        Some(Tok::Star) => "'*'".into(),
        Some(Tok::Number(n)) => format!("the number `{}`", crate::error::clip(n)),
        Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => format!("`{}`", crate::error::clip(w)),
    }
}

/// Splits `spec[from..to]` into tokens (offsets are into `spec`).
fn tokenise(spec: &str, from: usize, to: usize) -> Result<Vec<(Tok, usize)>> {
    let mut out = Vec::new();
    let text = &spec[from..to];
    let mut it = text.char_indices().peekable();
    while let Some(&(i, c)) = it.peek() {
        let at = from + i;
        match c {
            c if c.is_whitespace() => {
                it.next();
            }
            '(' | ')' | ',' | '+' | '-' | '*' => {
                it.next();
                out.push((
                    match c {
                        '(' => Tok::LParen,
                        ')' => Tok::RParen,
                        ',' => Tok::Comma,
                        '+' => Tok::Plus,
                        '-' => Tok::Minus,
                        _ => Tok::Star,
                    },
                    at,
                ));
            }
            '`' => {
                it.next();
                let mut name = String::new();
                let mut closed = false;
                while let Some((_, c)) = it.next() {
                    if c == '`' {
                        // A doubled backtick is one backtick of the name.
                        if matches!(it.peek(), Some((_, '`'))) {
                            it.next();
                            name.push('`');
                            continue;
                        }
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed {
                    return Err(bad_at(spec, at, "unclosed backtick-quoted name"));
                }
                out.push((Tok::Quoted(name), at));
            }
            c if c.is_ascii_digit() || c == '.' => {
                // A number: digits, a point, an exponent with its sign.
                let mut s = String::new();
                let mut prev = ' ';
                while let Some(&(_, c)) = it.peek() {
                    let sign_of_exponent = (c == '+' || c == '-') && (prev == 'e' || prev == 'E');
                    if c.is_ascii_alphanumeric() || c == '.' || c == '_' || sign_of_exponent {
                        s.push(c);
                        prev = c;
                        it.next();
                    } else {
                        break;
                    }
                }
                // A name that starts with a digit (e.g. `7day_sales`) is a word.
                if s.parse::<f64>().is_ok() {
                    out.push((Tok::Number(s), at));
                } else {
                    out.push((Tok::Word(s), at));
                }
            }
            _ => {
                let mut s = String::new();
                while let Some(&(_, c)) = it.peek() {
                    if c.is_whitespace() || "(),+-*`".contains(c) {
                        break;
                    }
                    s.push(c);
                    it.next();
                }
                out.push((Tok::Word(s), at));
            }
        }
    }
    Ok(out)
}

/// A finite number from a token (`nan` and `inf` are refused: they give no usable KPI).
fn finite(spec: &str, what: &str, text: &str, at: usize) -> Result<f64> {
    let v: f64 = text.trim().parse().map_err(|_| {
        bad_at(
            spec,
            at,
            format!(
                "{what} `{}` is not a number",
                crate::error::clip(text.trim())
            ),
        )
    })?;
    if !v.is_finite() {
        return Err(bad_at(
            spec,
            at,
            format!("{what} `{}` is not a finite number", text.trim()),
        ));
    }
    Ok(v)
}

/// One argument of a kind other than `composite`: the raw text between the delimiters, trimmed
/// (a column name may hold spaces or `-`), or a backtick-quoted name.
struct Arg {
    text: String,
    at: usize,
    /// Written in backticks (so `count` is a column, not the row count).
    quoted: bool,
}

/// The name inside backticks (a doubled backtick is one backtick of the name), if `text` is
/// exactly one quoted name.
fn unquote(text: &str) -> Option<String> {
    let inner = text.strip_prefix('`')?;
    let mut name = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '`' {
            match chars.next() {
                Some('`') => name.push('`'),
                None => return Some(name),
                Some(_) => return None,
            }
        } else {
            name.push(c);
        }
    }
    None
}

/// Parses `name=kind(args)`; see [`Kpi`]'s `FromStr`.
fn parse_spec(spec: &str) -> Result<Kpi> {
    // The name: the text before the first `=`, if that text holds no `(`.
    let (name, body_from) = match spec.find('=') {
        Some(eq) if !spec[..eq].contains('(') => (spec[..eq].trim().to_string(), eq + 1),
        _ => (spec.trim().to_string(), 0),
    };
    if name.is_empty() {
        return Err(bad_at(spec, 0, "the KPI name is empty"));
    }
    let body = &spec[body_from..];
    let lead = body.len() - body.trim_start().len();
    let kind_from = body_from + lead;
    let open = spec[kind_from..]
        .find('(')
        .map(|i| kind_from + i)
        .ok_or_else(|| {
            bad_at(
                spec,
                spec.len(),
                "expected kind(arguments), e.g. mean(csat), but found no '('",
            )
        })?;
    let kind_text = spec[kind_from..open].trim();
    let kind = kind_text.to_ascii_lowercase();
    if kind.is_empty() {
        return Err(bad_at(
            spec,
            kind_from,
            "expected a kind before '(', e.g. mean(csat)",
        ));
    }
    // The closing parenthesis: the last non-space character.
    let trimmed_end = spec.trim_end().len();
    let close = match spec[..trimmed_end].rfind(')') {
        Some(c) if c > open => c,
        _ => return Err(bad_at(spec, trimmed_end, "missing closing parenthesis ')'")),
    };
    if close + 1 != trimmed_end {
        return Err(bad_at(
            spec,
            close + 1,
            "unexpected text after the closing ')'",
        ));
    }
    let known = [
        "mean",
        "proportion",
        "prop",
        "ratio",
        "nps",
        "topbox",
        "top_box",
        "composite",
    ];
    if !known.contains(&kind.as_str()) {
        return Err(bad_at(
            spec,
            kind_from,
            format!(
                "unknown kind `{}`; use mean, proportion, ratio, nps, topbox or composite",
                crate::error::clip(kind_text)
            ),
        ));
    }
    if kind == "composite" {
        let terms = parse_composite(spec, open + 1, close)?;
        return Ok(Kpi {
            name,
            kind: KpiKind::Composite { terms },
        });
    }
    // Arguments separated by commas; no parentheses inside.
    let mut args: Vec<Arg> = Vec::new();
    let mut start = open + 1;
    for (i, c) in spec[open + 1..close].char_indices() {
        let at = open + 1 + i;
        match c {
            ',' => {
                args.push(arg(spec, start, at)?);
                start = at + 1;
            }
            '(' | ')' => return Err(bad_at(spec, at, format!("unexpected '{c}'"))),
            _ => {}
        }
    }
    args.push(arg(spec, start, close)?);
    let nargs = |n: usize| -> Result<()> {
        if args.len() == n {
            Ok(())
        } else {
            let at = args.get(n).map_or(close, |a| a.at);
            Err(bad_at(
                spec,
                at,
                format!("{kind} takes {n} argument(s), got {}", args.len()),
            ))
        }
    };
    let column = |a: &Arg| -> Result<String> {
        if a.text.is_empty() && !a.quoted {
            Err(bad_at(spec, a.at, "expected a column name"))
        } else {
            Ok(a.text.clone())
        }
    };
    let kind = match kind.as_str() {
        "mean" => {
            nargs(1)?;
            KpiKind::Mean {
                column: column(&args[0])?,
            }
        }
        "proportion" | "prop" => {
            nargs(1)?;
            KpiKind::Proportion {
                column: column(&args[0])?,
            }
        }
        "ratio" => {
            nargs(2)?;
            let den = column(&args[1])?;
            KpiKind::Ratio {
                numerator: column(&args[0])?,
                denominator: if den == "count" && !args[1].quoted {
                    Denominator::Count
                } else {
                    Denominator::Column(den)
                },
            }
        }
        "nps" => {
            nargs(1)?;
            KpiKind::Nps {
                column: column(&args[0])?,
            }
        }
        _ => {
            // topbox / top_box
            nargs(2)?;
            if args[1].text.is_empty() {
                return Err(bad_at(spec, args[1].at, "expected a threshold"));
            }
            let threshold = finite(spec, "threshold", &args[1].text, args[1].at)?;
            KpiKind::TopBox {
                column: column(&args[0])?,
                threshold,
            }
        }
    };
    Ok(Kpi { name, kind })
}

/// The argument in `spec[from..to]`: trimmed text (offset of its first character), or the
/// name inside backticks.
fn arg(spec: &str, from: usize, to: usize) -> Result<Arg> {
    let raw = &spec[from..to];
    let lead = raw.len() - raw.trim_start().len();
    let text = raw.trim();
    let at = if text.is_empty() { to } else { from + lead };
    if text.starts_with('`') {
        return match unquote(text) {
            Some(name) => Ok(Arg {
                text: name,
                at,
                quoted: true,
            }),
            None => Err(bad_at(spec, at, "unclosed backtick-quoted name")),
        };
    }
    Ok(Arg {
        text: text.to_string(),
        at,
        quoted: false,
    })
}

/// `composite(...)`: `term (('+' | '-') term)*`, a term being `[number '*'] column`; the
/// first term may have a sign, and a weight may be a signed number (`a + -0.5*b`).
fn parse_composite(spec: &str, from: usize, to: usize) -> Result<Vec<(String, f64)>> {
    let toks = tokenise(spec, from, to)?;
    let mut pos = 0;
    let mut terms = Vec::new();
    let mut sign = 1.0;
    let mut after: Option<(&str, usize)> = None;
    // A leading sign.
    match toks.first() {
        Some((Tok::Minus, _)) => {
            sign = -1.0;
            after = Some(("-", toks[0].1));
            pos = 1;
        }
        Some((Tok::Plus, _)) => {
            after = Some(("+", toks[0].1));
            pos = 1;
        }
        None => return Err(bad_at(spec, to, "a composite needs at least one term")),
        _ => {}
    }
    loop {
        let (w, col) = parse_term(spec, &toks, &mut pos, after, to)?;
        terms.push((col, sign * w));
        match toks.get(pos) {
            None => break,
            Some((Tok::Plus, at)) => {
                sign = 1.0;
                after = Some(("+", *at));
            }
            Some((Tok::Minus, at)) => {
                sign = -1.0;
                after = Some(("-", *at));
            }
            Some((_, at)) => {
                return Err(bad_at(
                    spec,
                    *at,
                    format!(
                        "expected '+' or '-' between terms, found {}",
                        describe(toks.get(pos))
                    ),
                ))
            }
        }
        pos += 1;
    }
    Ok(terms)
}

/// One `[number '*'] column` term (a number may carry one sign, as in `-0.5*b`).
fn parse_term(
    spec: &str,
    toks: &[(Tok, usize)],
    pos: &mut usize,
    after: Option<(&str, usize)>,
    end: usize,
) -> Result<(f64, String)> {
    let expected = |found: Option<&(Tok, usize)>| {
        let at = found.map_or(end, |t| t.1);
        let what = match after {
            Some((op, _)) => format!("expected a term after '{op}'"),
            None => "expected a term".to_string(),
        };
        bad_at(spec, at, format!("{what}, found {}", describe(found)))
    };
    // A signed weight: '-' or '+' directly before a number.
    let mut weight_sign = 1.0;
    if let (Some((Tok::Minus | Tok::Plus, _)), Some((Tok::Number(_), _))) =
        (toks.get(*pos), toks.get(*pos + 1))
    {
        if matches!(toks[*pos].0, Tok::Minus) {
            weight_sign = -1.0;
        }
        *pos += 1;
    }
    if let (Some((Tok::Word(w), at)), Some((Tok::Star, _))) = (toks.get(*pos), toks.get(*pos + 1)) {
        // A word before '*' is meant as a weight: `nan`, `inf` or not a number at all.
        finite(spec, "weight", w, *at)?;
    }
    match toks.get(*pos) {
        Some((Tok::Number(n), at)) => {
            let w = finite(spec, "weight", n, *at)?;
            *pos += 1;
            match toks.get(*pos) {
                Some((Tok::Star, star)) => {
                    *pos += 1;
                    let col = parse_column(spec, toks, pos).ok_or_else(|| {
                        let found = toks.get(*pos);
                        bad_at(
                            spec,
                            found.map_or(end, |t| t.1),
                            format!(
                                "expected a column after '*' (at column {}), found {}",
                                spec[..*star].chars().count() + 1,
                                describe(found)
                            ),
                        )
                    })?;
                    Ok((weight_sign * w, col))
                }
                found => Err(bad_at(
                    spec,
                    found.map_or(end, |t| t.1),
                    format!(
                        "expected '*' after the weight `{}`, found {}",
                        crate::error::clip(n),
                        describe(found)
                    ),
                )),
            }
        }
        _ if weight_sign < 0.0 => Err(expected(toks.get(*pos))),
        _ => match parse_column(spec, toks, pos) {
            Some(col) => Ok((1.0, col)),
            None => Err(expected(toks.get(*pos))),
        },
    }
}

/// A column name: one quoted name, or words (joined by the spaces between them).
fn parse_column(spec: &str, toks: &[(Tok, usize)], pos: &mut usize) -> Option<String> {
    match toks.get(*pos) {
        Some((Tok::Quoted(q), _)) => {
            *pos += 1;
            Some(q.clone())
        }
        Some((Tok::Word(_), start)) => {
            let mut end = *start;
            while let Some((Tok::Word(w) | Tok::Number(w), at)) = toks.get(*pos) {
                end = at + w.len();
                *pos += 1;
            }
            Some(spec[*start..end].to_string())
        }
        _ => None,
    }
}

impl std::str::FromStr for Kpi {
    type Err = DataError;

    /// Parses `name=kind(args)` (or `kind(args)`, named after the spec). See the module
    /// docs for the kinds. A column name may be written in backticks (`` mean(`pre-period`) ``),
    /// which a composite needs for names holding `+`, `-`, `*`, `,` or parentheses. Errors
    /// say what was expected and point at the column (1-based) with a caret line; thresholds
    /// and weights must be finite numbers.
    ///
    /// ```
    /// use causalkit_data::{Kpi, KpiKind, Denominator};
    /// let k: Kpi = "aht=ratio(handle_seconds, count)".parse().unwrap();
    /// assert_eq!(k.name, "aht");
    /// assert_eq!(k.kind, KpiKind::Ratio { numerator: "handle_seconds".into(), denominator: Denominator::Count });
    /// ```
    fn from_str(spec: &str) -> Result<Kpi> {
        parse_spec(spec)
    }
}

/// A column name as written in a spec: bare when it reads back as itself, else in backticks
/// (a backtick of the name doubled). `denominator` marks a ratio's denominator, where a bare
/// `count` means the row count.
fn show_column(c: &str, composite: bool, denominator: bool) -> String {
    let bare = if composite {
        !c.is_empty()
            && !c
                .chars()
                .any(|ch| "(),+-*`".contains(ch) || ch.is_whitespace())
            && !c.starts_with(|ch: char| ch.is_ascii_digit() || ch == '.')
    } else {
        let awkward = c.is_empty()
            || c.trim() != c
            || c.contains(['(', ')', ','])
            || c.starts_with('`')
            || (denominator && c == "count");
        !awkward
    };
    if bare {
        c.to_string()
    } else {
        format!("`{}`", c.replace('`', "``"))
    }
}

impl std::fmt::Display for Kpi {
    /// The definition in the form [`Kpi`]'s `FromStr` reads (`name=kind(args)`, or just
    /// `kind(args)` for a KPI named after its definition); parsing it gives this KPI back
    /// (for a name without `(`, or one that is its own definition).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = match &self.kind {
            KpiKind::Mean { column } => format!("mean({})", show_column(column, false, false)),
            KpiKind::Proportion { column } => {
                format!("proportion({})", show_column(column, false, false))
            }
            KpiKind::Ratio {
                numerator,
                denominator,
            } => format!(
                "ratio({}, {})",
                show_column(numerator, false, false),
                match denominator {
                    Denominator::Count => "count".to_string(),
                    Denominator::Column(d) => show_column(d, false, true),
                }
            ),
            KpiKind::Nps { column } => format!("nps({})", show_column(column, false, false)),
            KpiKind::TopBox { column, threshold } => {
                format!(
                    "topbox({}, {threshold:?})",
                    show_column(column, false, false)
                )
            }
            KpiKind::Composite { terms } => {
                let terms: Vec<String> = terms
                    .iter()
                    .map(|(c, w)| format!("{w:?}*{}", show_column(c, true, false)))
                    .collect();
                format!("composite({})", terms.join(" + "))
            }
        };
        if self.name == body {
            write!(f, "{body}")
        } else {
            write!(f, "{}={body}", self.name)
        }
    }
}

impl Kpi {
    /// The columns this KPI reads.
    pub fn columns(&self) -> Vec<&str> {
        self.kind.columns()
    }

    /// Whether the KPI is a ratio of two column sums (so its variance needs the delta
    /// method even at the row level).
    pub fn is_ratio(&self) -> bool {
        self.kind.is_ratio()
    }

    /// Per-row numerator and denominator, validated; rows with a missing input are an error
    /// or dropped per `policy` (the mask of rows kept is returned with the values).
    pub fn row_values(&self, data: &Dataset, policy: MissingPolicy) -> Result<RowValues> {
        let n = data.height();
        let cols: Vec<(String, Vec<Option<f64>>)> = self
            .columns()
            .into_iter()
            .map(|c| Ok((c.to_string(), data.numeric(c)?)))
            .collect::<Result<_>>()?;
        let presence: Vec<(&str, Vec<bool>)> = cols
            .iter()
            .map(|(c, v)| (c.as_str(), v.iter().map(Option::is_some).collect()))
            .collect();
        let (keep, dropped) = missing_mask(&presence, n, policy)?;
        let mut num = Vec::with_capacity(n);
        let mut den = Vec::with_capacity(n);
        let mut x = vec![0.0; cols.len()];
        for (i, &kept) in keep.iter().enumerate() {
            if !kept {
                num.push(0.0);
                den.push(0.0);
                continue;
            }
            for (xj, (_, c)) in x.iter_mut().zip(&cols) {
                *xj = c[i].unwrap_or(0.0);
            }
            let (a, b) = self.transform(&x).map_err(|bad| DataError::OutOfRange {
                column: cols[bad.input].0.clone(),
                row: i,
                value: x[bad.input],
                expected: bad.expected.into(),
            })?;
            num.push(a);
            den.push(b);
        }
        Ok(RowValues {
            numerator: num,
            denominator: den,
            keep,
            dropped,
        })
    }

    /// The KPI's row transform, the one definition every path uses (the in-memory
    /// [`Kpi::row_values`], and both readers of
    /// [`kpi_moments_scan`](crate::scan_moments::kpi_moments_scan)): given one row's values of
    /// [`Kpi::columns`], in that order, all present, it returns the row's numerator and
    /// denominator, or which input is out of the KPI's range:
    ///
    /// - mean: (x, 1); proportion: (x, 1) with x 0 or 1;
    /// - ratio: (numerator, denominator ≥ 0), or (numerator, 1) for `count`;
    /// - NPS: (+1 for 9–10, −1 for 0–6, 0 for 7–8; 1), the score an integer from 0 to 10;
    /// - top-box: (1 if x ≥ threshold else 0; 1);
    /// - composite: (Σ wⱼ xⱼ in term order; 1).
    pub fn transform(&self, x: &[f64]) -> std::result::Result<(f64, f64), OutOfRangeInput> {
        let out = |input: usize, expected: &'static str| OutOfRangeInput { input, expected };
        Ok(match &self.kind {
            KpiKind::Mean { .. } => (x[0], 1.0),
            KpiKind::Proportion { .. } => {
                // Exact by design: a proportion's values are exactly 0 or 1.
                #[allow(clippy::float_cmp)]
                let not_binary = x[0] != 0.0 && x[0] != 1.0;
                if not_binary {
                    return Err(out(0, "0 or 1 for a proportion"));
                }
                (x[0], 1.0)
            }
            KpiKind::Ratio { denominator, .. } => match denominator {
                Denominator::Count => (x[0], 1.0),
                Denominator::Column(_) => {
                    // NaN is not negative: non-finite inputs are refused before the transform.
                    if x[1] < 0.0 {
                        return Err(out(1, "a non-negative denominator"));
                    }
                    (x[0], x[1])
                }
            },
            KpiKind::Nps { .. } => {
                let v = x[0];
                if !(0.0..=10.0).contains(&v) || v.fract() != 0.0 {
                    return Err(out(0, "an integer score from 0 to 10"));
                }
                let score = if v >= 9.0 {
                    1.0
                } else if v <= 6.0 {
                    -1.0
                } else {
                    0.0
                };
                (score, 1.0)
            }
            KpiKind::TopBox { threshold, .. } => (if x[0] >= *threshold { 1.0 } else { 0.0 }, 1.0),
            KpiKind::Composite { terms } => {
                (terms.iter().zip(x).map(|((_, w), v)| w * v).sum(), 1.0)
            }
        })
    }
}

/// Numerators, denominators and the first row out of range (row, input), as
/// [`transform_columns`] gives them.
pub type ColumnTransform<'a> = (
    std::borrow::Cow<'a, [f64]>,
    std::borrow::Cow<'a, [f64]>,
    Option<(usize, OutOfRangeInput)>,
);

/// [`Kpi::transform`] over columns: the numerator and denominator of every row where
/// `present` is true (all rows when None), 0 elsewhere, and the first such row with an input
/// out of range. `inputs` are the columns of [`Kpi::columns`], in that order, of equal length.
/// The same values as calling [`Kpi::transform`] row by row (tested); a mean's values and a
/// ratio's columns are borrowed instead of copied (the rows not present then hold whatever
/// the column holds: callers use only present rows).
pub fn transform_columns<'a>(
    kpi: &Kpi,
    inputs: &[&'a [f64]],
    present: Option<&[bool]>,
) -> ColumnTransform<'a> {
    use std::borrow::Cow;
    let h = inputs.first().map_or(0, |c| c.len());
    let is_present = |r: usize| present.is_none_or(|p| p[r]);
    match &kpi.kind {
        KpiKind::Mean { .. }
        | KpiKind::Ratio {
            denominator: Denominator::Count,
            ..
        } => (Cow::Borrowed(inputs[0]), Cow::Owned(vec![1.0; h]), None),
        KpiKind::Ratio {
            denominator: Denominator::Column(_),
            ..
        } => {
            let bad = inputs[1]
                .iter()
                .enumerate()
                .position(|(r, d)| *d < 0.0 && is_present(r))
                .map(|r| {
                    let e = kpi.transform(&[inputs[0][r], inputs[1][r]]).err();
                    (
                        r,
                        e.unwrap_or(OutOfRangeInput {
                            input: 1,
                            expected: "a non-negative denominator",
                        }),
                    )
                });
            (Cow::Borrowed(inputs[0]), Cow::Borrowed(inputs[1]), bad)
        }
        _ => {
            let mut num = vec![0.0; h];
            let mut den = vec![0.0; h];
            let mut first = None;
            let mut x = vec![0.0; inputs.len()];
            for r in (0..h).filter(|r| is_present(*r)) {
                for (xi, c) in x.iter_mut().zip(inputs) {
                    *xi = c[r];
                }
                match kpi.transform(&x) {
                    Ok((a, b)) => {
                        num[r] = a;
                        den[r] = b;
                    }
                    Err(e) => {
                        if first.is_none() {
                            first = Some((r, e));
                        }
                    }
                }
            }
            (Cow::Owned(num), Cow::Owned(den), first)
        }
    }
}

/// An input of [`Kpi::transform`] outside the KPI's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfRangeInput {
    /// Which input (an index into [`Kpi::columns`]).
    pub input: usize,
    /// What the KPI allows there.
    pub expected: &'static str,
}

/// Per-row numerator and denominator of a KPI.
#[derive(Debug, Clone, PartialEq)]
pub struct RowValues {
    /// Numerator per row (0 for dropped rows).
    pub numerator: Vec<f64>,
    /// Denominator per row (0 for dropped rows).
    pub denominator: Vec<f64>,
    /// Which rows are used.
    pub keep: Vec<bool>,
    /// How many rows were dropped for missing values.
    pub dropped: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        let k: Kpi = "fcr=proportion(fcr)".parse().unwrap();
        assert_eq!(
            k.kind,
            KpiKind::Proportion {
                column: "fcr".into()
            }
        );
        let k: Kpi = "mean(csat)".parse().unwrap();
        assert_eq!(k.name, "mean(csat)");
        let k: Kpi = "t=topbox(csat, 4)".parse().unwrap();
        assert_eq!(
            k.kind,
            KpiKind::TopBox {
                column: "csat".into(),
                threshold: 4.0
            }
        );
        let k: Kpi = "r=composite(0.1*click + 0.3*add_to_cart + purchase - 0.5*return)"
            .parse()
            .unwrap();
        assert_eq!(
            k.kind,
            KpiKind::Composite {
                terms: vec![
                    ("click".into(), 0.1),
                    ("add_to_cart".into(), 0.3),
                    ("purchase".into(), 1.0),
                    ("return".into(), -0.5)
                ]
            }
        );
        let k: Kpi = "aov=ratio(revenue, orders)".parse().unwrap();
        assert!(k.is_ratio());
        assert_eq!(k.columns(), vec!["revenue", "orders"]);
    }

    #[test]
    fn bad_specs_say_why() {
        for s in [
            "x=median(a)",
            "x=mean(a, b)",
            "x=mean(a",
            "x=topbox(a, high)",
            "=mean(a)",
            "x=composite(2*)",
            "x=mean()",
        ] {
            let e = s.parse::<Kpi>().unwrap_err();
            assert!(matches!(e, DataError::InvalidKpi { .. }), "{s}: {e}");
        }
    }

    /// The column form gives, on every present row, exactly the row-by-row transform, and the
    /// same first row out of range.
    #[test]
    fn transform_columns_is_the_row_transform() {
        let a = [0.0, 1.0, 9.0, 3.0, -2.0, 10.0, 7.0];
        let b = [1.0, 0.0, 2.0, -1.0, 4.0, 1.0, 0.5];
        let present = [true, true, true, false, true, true, true];
        for spec in [
            "m=mean(a)",
            "p=proportion(a)",
            "r=ratio(a, b)",
            "c=ratio(a, count)",
            "n=nps(a)",
            "t=topbox(a, 3)",
            "w=composite(0.5*a - 2*b)",
        ] {
            let k: Kpi = spec.parse().unwrap();
            let cols: Vec<&[f64]> = k
                .columns()
                .iter()
                .map(|c| if *c == "a" { &a[..] } else { &b[..] })
                .collect();
            for mask in [None, Some(&present[..])] {
                let (num, den, bad) = transform_columns(&k, &cols, mask);
                let mut first = None;
                for r in 0..a.len() {
                    if mask.is_some_and(|m| !m[r]) {
                        continue;
                    }
                    let x: Vec<f64> = cols.iter().map(|c| c[r]).collect();
                    match k.transform(&x) {
                        Ok((u, v)) => {
                            assert_eq!(num[r].to_bits(), u.to_bits(), "{spec} row {r}");
                            assert_eq!(den[r].to_bits(), v.to_bits(), "{spec} row {r}");
                        }
                        Err(e) => {
                            first = first.or(Some((r, e)));
                        }
                    }
                }
                assert_eq!(bad, first, "{spec}");
            }
        }
    }

    #[test]
    fn json_round_trip() {
        let k: Kpi = "aht=ratio(handle_seconds, count)".parse().unwrap();
        let j = serde_json::to_string(&k).unwrap();
        assert_eq!(serde_json::from_str::<Kpi>(&j).unwrap(), k);
    }
}
