//! A write's deferred statements joined into fewer calls on PostgreSQL.
//!
//! There a statement with parameters is a call of its own (sqlx sends no
//! pipeline), so the statements a write defers to its commit — its row, a
//! timeline entry, an outbox event, a day's counts, the request id's record
//! — cost a round trip each, every one a wake of the server's process and
//! of ours. Plain INSERTs (`INSERT INTO t (…) VALUES (…)`: nothing read,
//! nothing returned, no conflict clause) join the statement before them as
//! the data-modifying parts of one:
//!
//! ```sql
//! WITH <the first's own parts>,
//!      cogov_joined_0 AS (<the first>),
//!      cogov_joined_1 AS (<an INSERT>)
//! <the last INSERT>
//! ```
//!
//! That stores what running them one after another would. The parts of
//! one statement share its snapshot, but an INSERT of values reads
//! nothing, so it misses nothing the statements before it wrote, and the
//! first statement sees nothing of what the INSERTs after it write either
//! way. Foreign keys are checked at the statement's end, so a row and a row
//! that refers to it may go in one. What could differ is kept apart: two
//! INSERTs into one table (the order of their rows and of their sequence
//! numbers is not the order written) and an INSERT into a table the first
//! statement names at all. A statement this cannot read (a dollar-quoted
//! string, a comment, a `;`) is sent alone.

#[cfg(test)]
use sea_orm::Value;
use sea_orm::{Statement, Values};

/// PostgreSQL's limit of parameters a statement.
const MAX_PARAMETERS: usize = u16::MAX as usize;

/// The most statements joined into one.
const MAX_JOINED: usize = 16;

/// `statements` in their order, each run of plain INSERTs joined to the
/// statement before it.
pub(crate) fn joined(statements: Vec<Statement>) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut group: Option<Group> = None;
    for statement in statements {
        let statement = match group.as_mut() {
            Some(g) => match g.take(statement) {
                None => continue,
                Some(refused) => {
                    out.push(group.take().expect("open").into_statement());
                    refused
                }
            },
            None => statement,
        };
        group = Some(Group::lead(statement));
    }
    out.extend(group.map(Group::into_statement));
    out
}

/// A statement and the plain INSERTs joined to it.
struct Group {
    first: Statement,
    /// How the first is built, if INSERTs may join it.
    lead: Option<Lead>,
    /// The INSERTs, with their tokens.
    inserts: Vec<(Statement, Vec<Token>)>,
    /// The tables and names the group's statements name already.
    names: Vec<String>,
    parameters: usize,
}

/// The first statement of a group, taken apart.
struct Lead {
    tokens: Vec<Token>,
    /// Where its main statement starts, after its own `WITH` parts.
    main: usize,
    /// The text of those parts, without `WITH`.
    parts: Option<String>,
}

impl Group {
    fn lead(first: Statement) -> Group {
        let lead = Lead::read(&first.sql);
        let names = lead.as_ref().map(|l| named(&l.tokens)).unwrap_or_default();
        Group {
            parameters: count(&first),
            first,
            lead,
            inserts: Vec::new(),
            names,
        }
    }

    /// Takes `statement` into the group, or gives it back.
    fn take(&mut self, statement: Statement) -> Option<Statement> {
        if self.lead.is_none()
            || self.inserts.len() + 1 >= MAX_JOINED
            || self.parameters + count(&statement) > MAX_PARAMETERS
        {
            return Some(statement);
        }
        let Some(tokens) = tokens(&statement.sql) else {
            return Some(statement);
        };
        match plain_insert(&tokens, count(&statement)) {
            Some(table) if !self.names.contains(&table) => {
                self.names.push(table);
                self.parameters += count(&statement);
                self.inserts.push((statement, tokens));
                None
            }
            _ => Some(statement),
        }
    }

    fn into_statement(self) -> Statement {
        let (Some(lead), false) = (self.lead, self.inserts.is_empty()) else {
            return self.first;
        };
        let mut sql = String::from("WITH ");
        if let Some(parts) = &lead.parts {
            sql.push_str(parts);
            sql.push_str(", ");
        }
        let main = &self.first.sql[lead.tokens[lead.main].start..];
        sql.push_str(&format!("cogov_joined_0 AS ({main})"));
        let mut values = self.first.values.map(|v| v.0).unwrap_or_default();
        let last = self.inserts.len() - 1;
        for (k, (insert, tokens)) in self.inserts.into_iter().enumerate() {
            let shifted = shift(&insert.sql, &tokens, values.len());
            if k == last {
                sql.push(' ');
                sql.push_str(&shifted);
            } else {
                sql.push_str(&format!(", cogov_joined_{} AS ({shifted})", k + 1));
            }
            values.extend(insert.values.map(|v| v.0).unwrap_or_default());
        }
        Statement {
            sql,
            values: Some(Values(values)),
            db_backend: self.first.db_backend,
        }
    }
}

impl Lead {
    /// A statement INSERTs may join: an INSERT, UPDATE or DELETE (a
    /// SELECT among the parts of a statement would not run unless read),
    /// after `WITH` parts of its own or not.
    fn read(sql: &str) -> Option<Lead> {
        let tokens = tokens(sql)?;
        let modifies = |t: &Token| ["insert", "update", "delete"].iter().any(|k| t.is_word(k));
        if tokens.first()?.is_word("with") {
            if tokens.get(1)?.is_word("recursive") {
                return None;
            }
            // The main statement is the first statement word outside the
            // parts' parentheses.
            let mut depth = 0i32;
            for (at, t) in tokens.iter().enumerate().skip(1) {
                match t.kind {
                    Kind::Symbol('(') => depth += 1,
                    Kind::Symbol(')') => depth -= 1,
                    Kind::Word if depth == 0 && STATEMENTS.iter().any(|k| t.is_word(k)) => {
                        if !modifies(t) {
                            return None;
                        }
                        let parts = sql[tokens[1].start..t.start].trim_end().to_owned();
                        return Some(Lead {
                            tokens,
                            main: at,
                            parts: Some(parts),
                        });
                    }
                    _ => {}
                }
            }
            None
        } else if modifies(tokens.first()?) {
            Some(Lead {
                tokens,
                main: 0,
                parts: None,
            })
        } else {
            None
        }
    }
}

/// The words that begin a statement.
const STATEMENTS: [&str; 7] = [
    "select", "insert", "update", "delete", "values", "table", "merge",
];

/// The table of a plain INSERT of `parameters` values.
fn plain_insert(tokens: &[Token], parameters: usize) -> Option<String> {
    let [insert, into, table, rest @ ..] = tokens else {
        return None;
    };
    if !insert.is_word("insert")
        || !into.is_word("into")
        || !matches!(table.kind, Kind::Word | Kind::Name)
        || rest.first()?.is_symbol('.')
    {
        return None;
    }
    let reads_or_returns = rest.iter().any(|t| {
        ["select", "returning", "on", "with"]
            .iter()
            .any(|k| t.is_word(k))
    });
    let values = rest.iter().any(|t| t.is_word("values"));
    // Its own parameters only: a `$n` beyond them would be another's.
    let within = rest.iter().all(|t| match t.kind {
        Kind::Parameter(n) => (1..=parameters).contains(&n),
        _ => true,
    });
    (values && within && !reads_or_returns).then(|| table.name.clone())
}

/// Every word and quoted name in `tokens`, lower-cased: what a statement
/// may name as a table.
fn named(tokens: &[Token]) -> Vec<String> {
    tokens
        .iter()
        .filter(|t| matches!(t.kind, Kind::Word | Kind::Name))
        .map(|t| t.name.clone())
        .collect()
}

fn count(s: &Statement) -> usize {
    s.values.as_ref().map_or(0, |v: &Values| v.0.len())
}

/// `sql` with each `$n` moved on by `by`.
fn shift(sql: &str, tokens: &[Token], by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut at = 0;
    for t in tokens {
        if let Kind::Parameter(n) = t.kind {
            out.push_str(&sql[at..t.start]);
            out.push_str(&format!("${}", n + by));
            at = t.end;
        }
    }
    out.push_str(&sql[at..]);
    out
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A keyword or an unquoted name.
    Word,
    /// A `"quoted"` name.
    Name,
    /// A string or a number.
    Literal,
    /// `$n`.
    Parameter(usize),
    Symbol(char),
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    /// A word lower-cased, a quoted name as written; empty otherwise.
    name: String,
    start: usize,
    end: usize,
}

impl Token {
    fn is_word(&self, keyword: &str) -> bool {
        self.kind == Kind::Word && self.name == keyword
    }

    fn is_symbol(&self, c: char) -> bool {
        self.kind == Kind::Symbol(c)
    }
}

/// The tokens of `sql`, or `None` for what this does not read: a dollar
/// quote, an unclosed quote, a comment, a `;`.
fn tokens(sql: &str) -> Option<Vec<Token>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    let token = |kind, name: String, start, end| Token {
        kind,
        name,
        start,
        end,
    };
    while at < bytes.len() {
        let c = bytes[at];
        let start = at;
        match c {
            _ if c.is_ascii_whitespace() => at += 1,
            // A comment could swallow what follows it once joined.
            b'-' if bytes.get(at + 1) == Some(&b'-') => return None,
            b'/' if bytes.get(at + 1) == Some(&b'*') => return None,
            b'\'' => {
                // `E'…'` takes backslash escapes.
                let escapes = out.last().is_some_and(|t: &Token| {
                    t.end == start && t.kind == Kind::Word && t.name == "e"
                });
                at = closing(bytes, at, b'\'', escapes)?;
                out.push(token(Kind::Literal, String::new(), start, at));
            }
            b'"' => {
                at = closing(bytes, at, b'"', false)?;
                let name = sql[start + 1..at - 1].replace("\"\"", "\"");
                out.push(token(Kind::Name, name, start, at));
            }
            b'$' => {
                let digits = bytes[at + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                if digits == 0 {
                    return None;
                }
                at += 1 + digits;
                let n = sql[start + 1..at].parse().ok()?;
                out.push(token(Kind::Parameter(n), String::new(), start, at));
            }
            b';' => return None,
            _ if c.is_ascii_alphabetic() || c == b'_' || !c.is_ascii() => {
                while at < bytes.len()
                    && (bytes[at].is_ascii_alphanumeric()
                        || matches!(bytes[at], b'_' | b'$')
                        || !bytes[at].is_ascii())
                {
                    at += 1;
                }
                let word = sql[start..at].to_ascii_lowercase();
                out.push(token(Kind::Word, word, start, at));
            }
            _ if c.is_ascii_digit() => {
                while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'.') {
                    at += 1;
                }
                out.push(token(Kind::Literal, String::new(), start, at));
            }
            _ => {
                at += 1;
                out.push(token(Kind::Symbol(char::from(c)), String::new(), start, at));
            }
        }
    }
    Some(out)
}

/// Where the quote opened at `open` ends (just past it); a doubled quote
/// is one inside.
fn closing(bytes: &[u8], open: usize, quote: u8, escapes: bool) -> Option<usize> {
    let mut at = open + 1;
    loop {
        match *bytes.get(at)? {
            b'\\' if escapes => at += 2,
            b if b == quote && bytes.get(at + 1) == Some(&quote) => at += 2,
            b if b == quote => return Some(at + 1),
            _ => at += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::DbBackend;

    fn statement(sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
    }

    fn insert(table: &str, v: i32) -> Statement {
        statement(
            &format!(r#"INSERT INTO "{table}" ("a", "b") VALUES ($1, $2)"#),
            vec![v.into(), (v + 1).into()],
        )
    }

    fn sqls(statements: &[Statement]) -> Vec<&str> {
        statements.iter().map(|s| s.sql.as_str()).collect()
    }

    /// A write's end as a report's: the day's counts (a statement with
    /// parts of its own), then its rows, joined into one call, each part's
    /// parameters moved on by the ones before.
    #[test]
    fn plain_inserts_join_the_statement_before_them() {
        let counts = statement(
            "WITH free AS (SELECT shard FROM counts WHERE day = $1 FOR UPDATE SKIP LOCKED), \
             added AS (UPDATE counts c SET n = c.n + $2 FROM free WHERE c.shard = free.shard RETURNING 1) \
             INSERT INTO counts (day, shard, n) SELECT $1, 0, $2 WHERE NOT EXISTS (SELECT 1 FROM added) \
             ON CONFLICT (day, shard) DO UPDATE SET n = counts.n + excluded.n",
            vec!["2026-12-08".into(), 1.into()],
        );
        let out = joined(vec![
            counts,
            insert("issues", 10),
            insert("issue_updates", 20),
            insert("outbox", 30),
        ]);
        assert_eq!(
            sqls(&out),
            [
                "WITH free AS (SELECT shard FROM counts WHERE day = $1 FOR UPDATE SKIP LOCKED), \
                 added AS (UPDATE counts c SET n = c.n + $2 FROM free WHERE c.shard = free.shard RETURNING 1), \
                 cogov_joined_0 AS (INSERT INTO counts (day, shard, n) SELECT $1, 0, $2 WHERE NOT EXISTS (SELECT 1 FROM added) \
                 ON CONFLICT (day, shard) DO UPDATE SET n = counts.n + excluded.n), \
                 cogov_joined_1 AS (INSERT INTO \"issues\" (\"a\", \"b\") VALUES ($3, $4)), \
                 cogov_joined_2 AS (INSERT INTO \"issue_updates\" (\"a\", \"b\") VALUES ($5, $6)) \
                 INSERT INTO \"outbox\" (\"a\", \"b\") VALUES ($7, $8)"
            ]
        );
        let values = out[0].values.as_ref().unwrap().0.clone();
        let expected: Vec<Value> = vec![
            "2026-12-08".into(),
            1.into(),
            10.into(),
            11.into(),
            20.into(),
            21.into(),
            30.into(),
            31.into(),
        ];
        assert_eq!(values, expected);
    }

    /// What could run otherwise joined stays a statement of its own.
    #[test]
    fn what_could_differ_joined_is_kept_apart() {
        let update = statement(
            r#"UPDATE "issues" SET "cluster_id" = $1 WHERE "issues"."id" IN ($2)"#,
            vec![1.into(), 2.into()],
        );
        // Two INSERTs into one table: their rows' order would not be kept.
        // An UPDATE reads: it leads the next statement, joined by an INSERT
        // into another table, not by one into the table it names.
        let out = joined(vec![
            insert("outbox", 1),
            insert("outbox", 2),
            update.clone(),
            insert("issues", 3),
            insert("outbox", 4),
        ]);
        assert_eq!(out.len(), 4, "{:#?}", sqls(&out));
        assert_eq!(out[0].sql, insert("outbox", 1).sql);
        assert_eq!(out[1].sql, insert("outbox", 2).sql);
        assert_eq!(out[2].sql, update.sql);
        assert!(
            out[3]
                .sql
                .starts_with(r#"WITH cogov_joined_0 AS (INSERT INTO "issues""#),
            "{}",
            out[3].sql
        );

        // INSERTs that read, return or meet a conflict lead, never join.
        for refused in [
            r#"INSERT INTO "b" ("a") SELECT $1"#,
            r#"INSERT INTO "b" ("a") VALUES ($1) RETURNING "a""#,
            r#"INSERT INTO "b" ("a") VALUES ($1) ON CONFLICT DO NOTHING"#,
            r#"INSERT INTO "s"."b" ("a") VALUES ($1)"#,
            r#"INSERT INTO "b" ("a") VALUES ($2)"#,
            r#"INSERT INTO "b" ("a") VALUES ($1); DELETE FROM "a""#,
        ] {
            let out = joined(vec![update.clone(), statement(refused, vec![1.into()])]);
            assert_eq!(out.len(), 2, "{refused}");
        }
        // A SELECT's part would not run unless read; `WITH RECURSIVE` and
        // dollar quotes are not read here.
        for alone in [
            "SELECT pg_advisory_xact_lock($1)",
            "WITH RECURSIVE r AS (SELECT 1) DELETE FROM a WHERE id IN (SELECT * FROM r)",
            "WITH r AS (SELECT 1) SELECT * FROM r",
            "UPDATE a SET t = $$x$$",
            "UPDATE a SET t = 1 -- a comment",
        ] {
            let out = joined(vec![statement(alone, vec![]), insert("b", 1)]);
            assert_eq!(out.len(), 2, "{alone}");
        }
    }

    /// `$n` inside strings and quoted names is text, not a parameter.
    #[test]
    fn only_parameters_move_on() {
        let lead = statement(r#"DELETE FROM "a" WHERE "x" = $1"#, vec![1.into()]);
        let quoted = statement(
            "INSERT INTO \"b\" (\"$1\", \"c\") VALUES ($1, 'it''s $1')",
            vec![2.into()],
        );
        let escaped = statement(r"INSERT INTO c (d) VALUES (E'\'$1', $1)", vec![3.into()]);
        let out = joined(vec![lead, quoted, escaped]);
        assert_eq!(
            sqls(&out),
            [
                "WITH cogov_joined_0 AS (DELETE FROM \"a\" WHERE \"x\" = $1), \
                 cogov_joined_1 AS (INSERT INTO \"b\" (\"$1\", \"c\") VALUES ($2, 'it''s $1')) \
                 INSERT INTO c (d) VALUES (E'\\'$1', $3)"
            ]
        );
    }
}
