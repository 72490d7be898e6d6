//! Linear reward expressions: `0.1*click + 0.3*add_to_cart + 1*purchase - 0.5*return`.
//!
//! Grammar: `expr := ["+"|"-"] term (("+"|"-") term)*`, `term := number ["*"] name |
//! name ["*" number] | name`, where a name starts with a letter or `_` and continues with
//! letters, digits and `_`, and a number is a decimal with optional exponent. A name may
//! appear once. Errors give the 1-based character position at fault.

use crate::error::{Result, RewardError};

/// A parsed linear reward `R = Σ w_k signal_k`, terms in order of appearance.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reward {
    /// `(signal, weight)` per term.
    pub terms: Vec<(String, f64)>,
}

impl Reward {
    /// A reward from `(signal, weight)` pairs.
    pub fn new(terms: Vec<(String, f64)>) -> Self {
        Reward { terms }
    }

    /// Parses an expression (see the module docs).
    pub fn parse(src: &str) -> Result<Reward> {
        Parser::new(src).parse()
    }

    /// The signal names, in order.
    pub fn signals(&self) -> Vec<String> {
        self.terms.iter().map(|t| t.0.clone()).collect()
    }

    /// The weights, in order.
    pub fn weights(&self) -> Vec<f64> {
        self.terms.iter().map(|t| t.1).collect()
    }

    /// The expression in canonical form, e.g. `0.1*click - 0.5*return`.
    pub fn display(&self) -> String {
        let mut s = String::new();
        for (i, (n, w)) in self.terms.iter().enumerate() {
            let (sign, a) = if *w < 0.0 { ("-", -w) } else { ("+", *w) };
            if i == 0 {
                if sign == "-" {
                    s.push('-');
                }
            } else {
                s += &format!(" {sign} ");
            }
            s += &format!("{}*{n}", causalkit_stats::fmt_value(a));
        }
        s
    }
}

struct Parser<'a> {
    src: &'a str,
    chars: Vec<char>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Parser {
            src,
            chars: src.chars().collect(),
            pos: 0,
        }
    }

    fn err<T>(&self, at: usize, message: impl Into<String>) -> Result<T> {
        Err(RewardError::Expression {
            expression: self.src.to_string(),
            position: at + 1,
            message: message.into(),
        })
    }

    fn skip(&mut self) {
        while self.pos < self.chars.len() && self.chars[self.pos].is_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip();
        self.chars.get(self.pos).copied()
    }

    fn number(&mut self) -> Option<f64> {
        self.skip();
        let start = self.pos;
        let c = &self.chars;
        let mut i = self.pos;
        while i < c.len() && (c[i].is_ascii_digit() || c[i] == '.') {
            i += 1;
        }
        if i == start {
            return None;
        }
        if i < c.len() && (c[i] == 'e' || c[i] == 'E') {
            let mut j = i + 1;
            if j < c.len() && (c[j] == '+' || c[j] == '-') {
                j += 1;
            }
            let k = j;
            while j < c.len() && c[j].is_ascii_digit() {
                j += 1;
            }
            if j > k {
                i = j;
            }
        }
        let text: String = c[start..i].iter().collect();
        let v = text.parse::<f64>().ok()?;
        self.pos = i;
        Some(v)
    }

    fn name(&mut self) -> Option<String> {
        self.skip();
        let c = &self.chars;
        let start = self.pos;
        if start >= c.len() || !(c[start].is_alphabetic() || c[start] == '_') {
            return None;
        }
        let mut i = start;
        while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
            i += 1;
        }
        self.pos = i;
        Some(c[start..i].iter().collect())
    }

    fn term(&mut self) -> Result<(String, f64)> {
        let at = {
            self.skip();
            self.pos
        };
        if let Some(v) = self.number() {
            if !v.is_finite() {
                return self.err(at, "the weight is not a finite number");
            }
            if self.peek() == Some('*') {
                self.pos += 1;
            }
            let at_name = {
                self.skip();
                self.pos
            };
            return match self.name() {
                Some(n) => Ok((n, v)),
                None => self.err(at_name, "expected a signal name after the weight"),
            };
        }
        let Some(n) = self.name() else {
            return self.err(at, "expected a weight or a signal name");
        };
        if self.peek() == Some('*') {
            self.pos += 1;
            let at_num = {
                self.skip();
                self.pos
            };
            return match self.number() {
                Some(v) if v.is_finite() => Ok((n, v)),
                _ => self.err(at_num, "expected a number after `*`"),
            };
        }
        Ok((n, 1.0))
    }

    fn parse(mut self) -> Result<Reward> {
        if self.peek().is_none() {
            return self.err(0, "the expression is empty");
        }
        let mut terms: Vec<(String, f64)> = Vec::new();
        let mut sign = 1.0;
        match self.peek() {
            Some('-') => {
                sign = -1.0;
                self.pos += 1;
            }
            Some('+') => self.pos += 1,
            _ => {}
        }
        loop {
            let at = {
                self.skip();
                self.pos
            };
            let (n, w) = self.term()?;
            if terms.iter().any(|t| t.0 == n) {
                return self.err(at, format!("`{n}` appears twice"));
            }
            terms.push((n, sign * w));
            match self.peek() {
                None => break,
                Some('+') => sign = 1.0,
                Some('-') => sign = -1.0,
                Some(c) => return self.err(self.pos, format!("expected `+` or `-`, found `{c}`")),
            }
            self.pos += 1;
            if self.peek().is_none() {
                return self.err(self.pos, "a term is missing after the operator");
            }
        }
        Ok(Reward { terms })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_issue_example() {
        let r = Reward::parse("0.1*click + 0.3*add_to_cart + 1*purchase - 0.5*return").unwrap();
        assert_eq!(
            r.terms,
            vec![
                ("click".to_string(), 0.1),
                ("add_to_cart".to_string(), 0.3),
                ("purchase".to_string(), 1.0),
                ("return".to_string(), -0.5)
            ]
        );
        let r2 = Reward::parse(&r.display()).unwrap();
        assert_eq!(r, r2);
        let r = Reward::parse("-click + purchase*2 - 1e-1 return").unwrap();
        assert_eq!(r.weights(), vec![-1.0, 2.0, -0.1]);
    }

    #[test]
    fn errors_give_the_position() {
        let pos = |s: &str| match Reward::parse(s).unwrap_err() {
            RewardError::Expression { position, .. } => position,
            e => panic!("{e}"),
        };
        assert_eq!(pos("0.1*click + * purchase"), 13);
        assert_eq!(pos("0.1*click purchase"), 11);
        assert_eq!(pos("0.1*click +"), 12);
        assert_eq!(pos("click + 0.2*"), 13);
        assert_eq!(pos("click + click"), 9);
        assert_eq!(pos(""), 1);
    }
}
