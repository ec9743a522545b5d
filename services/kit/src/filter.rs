//! List filters: a subset of AIP-160, parsed here and translated to SQL
//! conditions against the fields each list declares.
//!
//! Grammar (AIP-160's precedence: OR binds tighter than AND):
//! ```text
//! expression := factor { "AND" factor }
//! factor     := term { "OR" term }
//! term       := [ "NOT" | "-" ] simple
//! simple     := "(" expression ")" | field op value
//! op         := "=" | "!=" | "<" | "<=" | ">" | ">=" | ":"
//! value      := "quoted \"string\"" | bare-word
//! ```
//! `field : value` means "has": for a scalar it is equality, for a list
//! membership. Limits: 2000 characters, nesting depth 16, 64 comparisons.

use sea_orm::sea_query::{Condition, Expr, ExprTrait, IntoColumnRef, SimpleExpr};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::names;

const MAX_LEN: usize = 2000;
const MAX_DEPTH: usize = 16;
const MAX_COMPARISONS: usize = 64;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `:` (has)
    Has,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// All must hold.
    And(Vec<Filter>),
    /// Any must hold.
    Or(Vec<Filter>),
    /// Must not hold.
    Not(Box<Filter>),
    /// `field op value`.
    Compare {
        field: String,
        op: Op,
        value: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(Op),
    Open,
    Close,
    Minus,
}

fn bad(description: impl Into<String>) -> Error {
    Error::invalid("filter", description)
}

fn tokenize(input: &str) -> Result<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            // A minus negates at the start of a term; elsewhere it is part
            // of a word (a negative number, a date).
            '-' if matches!(tokens.last(), None | Some(Token::Open))
                || matches!(tokens.last(), Some(Token::Word(w)) if is_keyword(w)) =>
            {
                chars.next();
                tokens.push(Token::Minus);
            }
            '=' => {
                chars.next();
                tokens.push(Token::Op(Op::Eq));
            }
            ':' => {
                chars.next();
                tokens.push(Token::Op(Op::Has));
            }
            '!' | '<' | '>' => {
                chars.next();
                let eq = chars.peek().map(|&(_, c)| c) == Some('=');
                if eq {
                    chars.next();
                }
                tokens.push(Token::Op(match (c, eq) {
                    ('!', true) => Op::Ne,
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    ('>', true) => Op::Ge,
                    _ => return Err(bad(format!("unexpected `!` at {i}; did you mean `!=`?"))),
                }));
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(bad("unterminated string")),
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, c @ ('"' | '\\'))) => s.push(c),
                            _ => return Err(bad("only \\\" and \\\\ may be escaped")),
                        },
                        Some((_, c)) => s.push(c),
                    }
                }
                tokens.push(Token::Quoted(s));
            }
            _ => {
                let mut s = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '=' | '!' | '<' | '>' | '"') {
                        break;
                    }
                    // `:` separates field and value, except inside a value
                    // such as a timestamp (after an operator).
                    if c == ':' && !matches!(tokens.last(), Some(Token::Op(_))) {
                        break;
                    }
                    s.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(s));
            }
        }
    }
    Ok(tokens)
}

fn is_keyword(w: &str) -> bool {
    matches!(w, "AND" | "OR" | "NOT")
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    comparisons: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&mut self, k: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w == k) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expression(&mut self, depth: usize) -> Result<Filter> {
        if depth > MAX_DEPTH {
            return Err(bad("nested too deeply"));
        }
        let mut factors = vec![self.factor(depth)?];
        while self.keyword("AND") {
            factors.push(self.factor(depth)?);
        }
        Ok(if factors.len() == 1 {
            factors.remove(0)
        } else {
            Filter::And(factors)
        })
    }

    fn factor(&mut self, depth: usize) -> Result<Filter> {
        let mut terms = vec![self.term(depth)?];
        while self.keyword("OR") {
            terms.push(self.term(depth)?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Filter::Or(terms)
        })
    }

    fn term(&mut self, depth: usize) -> Result<Filter> {
        if self.keyword("NOT") || matches!(self.peek(), Some(Token::Minus)) && self.next().is_some()
        {
            return Ok(Filter::Not(Box::new(self.simple(depth)?)));
        }
        self.simple(depth)
    }

    fn simple(&mut self, depth: usize) -> Result<Filter> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.expression(depth + 1)?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(bad("missing `)`")),
                }
            }
            Some(Token::Word(field)) if !is_keyword(&field) => {
                let Some(Token::Op(op)) = self.next() else {
                    return Err(bad(format!("expected an operator after `{field}`")));
                };
                let value = match self.next() {
                    Some(Token::Word(w)) if !is_keyword(&w) => w,
                    Some(Token::Quoted(q)) => q,
                    _ => return Err(bad(format!("expected a value after `{field}`"))),
                };
                self.comparisons += 1;
                if self.comparisons > MAX_COMPARISONS {
                    return Err(bad(format!("at most {MAX_COMPARISONS} comparisons")));
                }
                Ok(Filter::Compare { field, op, value })
            }
            Some(t) => Err(bad(format!("unexpected {t:?}"))),
            None => Err(bad("unexpected end")),
        }
    }
}

impl Filter {
    /// Parses `input`; `None` for an empty filter.
    pub fn parse(input: &str) -> Result<Option<Filter>> {
        if input.len() > MAX_LEN {
            return Err(bad(format!("must be at most {MAX_LEN} characters")));
        }
        if input.trim().is_empty() {
            return Ok(None);
        }
        let mut parser = Parser {
            tokens: tokenize(input)?,
            pos: 0,
            comparisons: 0,
        };
        let filter = parser.expression(0)?;
        if parser.pos != parser.tokens.len() {
            return Err(bad("unexpected input after the end of the expression"));
        }
        Ok(Some(filter))
    }
}

/// Builds the condition of a custom field from the operator and value.
pub type CustomFn = dyn Fn(Op, &str) -> std::result::Result<SimpleExpr, String> + Send + Sync;

/// How a filterable field compares.
pub enum Kind {
    /// A resource name in the collection, compared by id.
    Name(&'static str),
    /// Text, compared as is.
    Text,
    /// `true` or `false`.
    Bool,
    /// An integer.
    Int,
    /// An RFC 3339 timestamp.
    Timestamp,
    /// A protobuf enum: the value's full or short name (`COURTYARD_KIND_ESTATE`
    /// or `ESTATE`), or its number.
    Enum(fn(&str) -> Option<i32>, &'static str),
    /// Anything else: builds the condition itself (e.g. an EXISTS subquery,
    /// or a comparison with the service's clock).
    Custom(Box<CustomFn>),
}

/// A field a list can be filtered on.
pub struct Field {
    /// Its name in filters.
    pub name: &'static str,
    /// The column compared (unused for `Custom`).
    pub column: Option<Expr>,
    /// How values compare.
    pub kind: Kind,
}

impl Field {
    /// A field on a column.
    pub fn column(name: &'static str, column: impl IntoColumnRef, kind: Kind) -> Self {
        Self {
            name,
            column: Some(Expr::col(column)),
            kind,
        }
    }

    /// A field with its own condition builder.
    pub fn custom(
        name: &'static str,
        build: impl Fn(Op, &str) -> std::result::Result<SimpleExpr, String> + Send + Sync + 'static,
    ) -> Self {
        Self {
            name,
            column: None,
            kind: Kind::Custom(Box::new(build)),
        }
    }
}

/// Translates `filter` to a SQL condition over `fields`.
pub fn to_condition(filter: &Filter, fields: &[Field]) -> Result<Condition> {
    Ok(match filter {
        Filter::And(items) => items.iter().try_fold(Condition::all(), |c, f| {
            Ok::<_, Error>(c.add(to_condition(f, fields)?))
        })?,
        Filter::Or(items) => items.iter().try_fold(Condition::any(), |c, f| {
            Ok::<_, Error>(c.add(to_condition(f, fields)?))
        })?,
        Filter::Not(inner) => to_condition(inner, fields)?.not(),
        Filter::Compare { field, op, value } => {
            let spec = fields.iter().find(|f| f.name == field).ok_or_else(|| {
                let known: Vec<_> = fields.iter().map(|f| f.name).collect();
                bad(format!(
                    "unknown field `{field}`; filterable: {}",
                    known.join(", ")
                ))
            })?;
            Condition::all()
                .add(compare(spec, *op, value).map_err(|e| bad(format!("`{field}`: {e}")))?)
        }
    })
}

/// Parses and translates in one step; an empty filter is "everything".
pub fn condition(input: &str, fields: &[Field]) -> Result<Condition> {
    match Filter::parse(input)? {
        Some(f) => to_condition(&f, fields),
        None => Ok(Condition::all()),
    }
}

fn ordered(col: Expr, op: Op, v: sea_orm::Value) -> SimpleExpr {
    match op {
        Op::Eq | Op::Has => col.eq(v),
        Op::Ne => col.ne(v),
        Op::Lt => col.lt(v),
        Op::Le => col.lte(v),
        Op::Gt => col.gt(v),
        Op::Ge => col.gte(v),
    }
}

fn equality_only(op: Op) -> std::result::Result<(), String> {
    match op {
        Op::Eq | Op::Ne | Op::Has => Ok(()),
        _ => Err("only `=`, `!=` and `:` apply".into()),
    }
}

fn compare(spec: &Field, op: Op, value: &str) -> std::result::Result<SimpleExpr, String> {
    let col = || spec.column.clone().expect("column fields have a column");
    match &spec.kind {
        Kind::Custom(build) => build(op, value),
        Kind::Name(collection) => {
            equality_only(op)?;
            let id: Uuid = names::parse(collection, value)
                .ok_or_else(|| format!("expected a `{collection}/{{id}}` name"))?;
            Ok(ordered(col(), op, id.into()))
        }
        Kind::Text => Ok(ordered(col(), op, value.to_owned().into())),
        Kind::Bool => {
            equality_only(op)?;
            let b = match value {
                "true" => true,
                "false" => false,
                _ => return Err("expected true or false".into()),
            };
            Ok(ordered(col(), op, b.into()))
        }
        Kind::Int => {
            let n: i64 = value
                .parse()
                .map_err(|_| "expected an integer".to_owned())?;
            Ok(ordered(col(), op, n.into()))
        }
        Kind::Timestamp => {
            let t = chrono::DateTime::parse_from_rfc3339(value)
                .map_err(|_| {
                    "expected an RFC 3339 timestamp such as 2026-11-26T08:00:00Z".to_owned()
                })?
                .with_timezone(&chrono::Utc);
            Ok(ordered(col(), op, t.into()))
        }
        Kind::Enum(from_name, prefix) => {
            equality_only(op)?;
            let n = value
                .parse::<i32>()
                .ok()
                .or_else(|| from_name(value))
                .or_else(|| from_name(&format!("{prefix}{}", value.to_ascii_uppercase())))
                .filter(|&n| n != 0)
                .ok_or_else(|| format!("unknown value `{value}`"))?;
            Ok(ordered(col(), op, n.into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(field: &str, op: Op, value: &str) -> Filter {
        Filter::Compare {
            field: field.into(),
            op,
            value: value.into(),
        }
    }

    #[test]
    fn parses_the_subset() {
        assert_eq!(Filter::parse("").unwrap(), None);
        assert_eq!(Filter::parse("a = 1").unwrap(), Some(cmp("a", Op::Eq, "1")));
        assert_eq!(
            Filter::parse(r#"a = "x y" AND b != z"#).unwrap(),
            Some(Filter::And(vec![
                cmp("a", Op::Eq, "x y"),
                cmp("b", Op::Ne, "z")
            ]))
        );
        // OR binds tighter than AND.
        assert_eq!(
            Filter::parse("a = 1 AND b = 2 OR c = 3").unwrap(),
            Some(Filter::And(vec![
                cmp("a", Op::Eq, "1"),
                Filter::Or(vec![cmp("b", Op::Eq, "2"), cmp("c", Op::Eq, "3")])
            ]))
        );
        assert_eq!(
            Filter::parse("NOT (a = 1) AND -b:2").unwrap(),
            Some(Filter::And(vec![
                Filter::Not(Box::new(cmp("a", Op::Eq, "1"))),
                Filter::Not(Box::new(cmp("b", Op::Has, "2")))
            ]))
        );
        assert_eq!(
            Filter::parse("t >= 2026-01-01T00:00:00Z").unwrap(),
            Some(cmp("t", Op::Ge, "2026-01-01T00:00:00Z"))
        );
        assert_eq!(
            Filter::parse(r#"a = "q\"uote""#).unwrap(),
            Some(cmp("a", Op::Eq, "q\"uote"))
        );
    }

    #[test]
    fn refuses_malformed_input() {
        for input in [
            "a",
            "a =",
            "= 1",
            "a = 1 AND",
            "(a = 1",
            "a = 1)",
            "a ! 1",
            "\"open",
            "a = 1 b = 2",
            "AND",
            "a = AND",
        ] {
            assert!(Filter::parse(input).is_err(), "{input}");
        }
        let deep = format!("{}a = 1{}", "(".repeat(40), ")".repeat(40));
        assert!(Filter::parse(&deep).is_err());
        let long = vec!["a = 1"; 65].join(" AND ");
        assert!(Filter::parse(&long).is_err());
        assert!(Filter::parse(&"a".repeat(2001)).is_err());
    }

    #[test]
    fn translates_known_fields_only() {
        let fields = [
            Field::column("code", "code", Kind::Text),
            Field::column("pilot", "pilot", Kind::Bool),
            Field::column("street", "street_id", Kind::Name("streets")),
        ];
        assert!(condition("code = \"x\" AND pilot = true", &fields).is_ok());
        assert!(condition("nope = 1", &fields).is_err());
        assert!(condition("pilot = maybe", &fields).is_err());
        assert!(condition("pilot > true", &fields).is_err());
        assert!(condition("street = streets/1", &fields).is_err());
        assert!(
            condition(
                &format!("street = {}", names::format("streets", Uuid::now_v7())),
                &fields
            )
            .is_ok()
        );
    }
}
