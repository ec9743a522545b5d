//! AIP-160 filters (`cogov_kit::filter`): any text parses or is refused
//! without a panic; and any filter written as a tree parses back to that
//! tree, unless it is beyond the documented limits.

#![no_main]

use cogov_kit::filter::{Filter, Op};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Input {
    Text(String),
    Tree(Expr),
}

#[derive(Arbitrary, Debug)]
enum Expr {
    And(Box<Expr>, Vec<Expr>),
    Or(Box<Expr>, Vec<Expr>),
    Not(Box<Expr>),
    Compare(Field, Operator, String),
}

/// A field name: letters and underscores, never a keyword.
#[derive(Arbitrary, Debug)]
struct Field(u8, u8);

impl Field {
    fn name(&self) -> String {
        const NAMES: [&str; 8] = [
            "state",
            "courtyard",
            "create_time",
            "sub_item",
            "overdue",
            "a",
            "x_y",
            "kind",
        ];
        let base = NAMES[usize::from(self.0) % NAMES.len()];
        if self.1 % 2 == 0 {
            base.to_owned()
        } else {
            format!("{base}_{}", char::from(b'a' + self.1 % 26))
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Operator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Has,
}

impl Operator {
    fn text(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::Ne => "!=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::Has => ":",
        }
    }

    fn op(self) -> Op {
        match self {
            Operator::Eq => Op::Eq,
            Operator::Ne => Op::Ne,
            Operator::Lt => Op::Lt,
            Operator::Le => Op::Le,
            Operator::Gt => Op::Gt,
            Operator::Ge => Op::Ge,
            Operator::Has => Op::Has,
        }
    }
}

fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The text of `e`, every group in parentheses; also its nesting depth and
/// comparisons.
fn render(e: &Expr) -> (String, usize, usize) {
    match e {
        Expr::Compare(field, op, value) => (
            format!("{} {} {}", field.name(), op.text(), quote(value)),
            0,
            1,
        ),
        Expr::And(first, rest) | Expr::Or(first, rest) => {
            let word = if matches!(e, Expr::And(..)) {
                " AND "
            } else {
                " OR "
            };
            let parts: Vec<_> = std::iter::once(first.as_ref())
                .chain(rest)
                .map(render)
                .collect();
            let text = parts
                .iter()
                .map(|p| p.0.as_str())
                .collect::<Vec<_>>()
                .join(word);
            let depth = 1 + parts.iter().map(|p| p.1).max().unwrap_or(0);
            (format!("({text})"), depth, parts.iter().map(|p| p.2).sum())
        }
        Expr::Not(inner) => {
            let (text, depth, n) = render(inner);
            match inner.as_ref() {
                // NOT applies to a comparison or a group; a second NOT needs one.
                Expr::Not(_) => (format!("NOT ({text})"), depth + 1, n),
                _ => (format!("NOT {text}"), depth, n),
            }
        }
    }
}

/// `e` as the parser builds it: a group of one is its member.
fn expected(e: &Expr) -> Filter {
    match e {
        Expr::Compare(field, op, value) => Filter::Compare {
            field: field.name(),
            op: op.op(),
            value: value.clone(),
        },
        Expr::Not(inner) => Filter::Not(Box::new(expected(inner))),
        Expr::And(first, rest) => group(true, std::iter::once(first.as_ref()).chain(rest)),
        Expr::Or(first, rest) => group(false, std::iter::once(first.as_ref()).chain(rest)),
    }
}

fn group<'a>(and: bool, members: impl Iterator<Item = &'a Expr>) -> Filter {
    let mut all: Vec<Filter> = members.map(expected).collect();
    if all.len() == 1 {
        return all.remove(0);
    }
    if and {
        Filter::And(all)
    } else {
        Filter::Or(all)
    }
}

fuzz_target!(|input: Input| {
    match input {
        Input::Text(text) => {
            let _ = Filter::parse(&text);
        }
        Input::Tree(tree) => {
            let (text, depth, comparisons) = render(&tree);
            match Filter::parse(&text) {
                Ok(Some(parsed)) => assert_eq!(parsed, expected(&tree), "{text}"),
                Ok(None) => panic!("{text:?} parsed as empty"),
                Err(e) => assert!(
                    text.len() > 2000 || depth > 16 || comparisons > 64,
                    "{text:?} refused within the limits: {e}"
                ),
            }
        }
    }
});
