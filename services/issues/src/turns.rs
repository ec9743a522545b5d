//! Turns on PostgreSQL for the writes that store something derived from a
//! courtyard's other issues (its two-nos status, a recurring cluster):
//! under READ COMMITTED two such writes would each miss the other's issue,
//! or lock the same issues in another order. A transaction-scoped advisory
//! lock makes them take turns until they commit; it also covers what has
//! no row yet. On SQLite every write takes its turn anyway.
//!
//! Writes take them in one order, so that no two wait for each other in
//! a cycle: a pair's clusters turn (a report), then the courtyard's
//! two-nos turn, then any issue's row lock (a save, the commit's gathering
//! into a cluster).

use sea_orm::{DbBackend, Statement};
use uuid::Uuid;

/// What a turn is for: the first key of its advisory lock (other advisory
/// locks use the one-key form).
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    /// A courtyard's two-nos status ("2NOS").
    TwoNos = 0x324E_4F53,
    /// A courtyard's clusters of one sub-item ("CLUS").
    Clusters = 0x434C_5553,
}

/// The statement that waits for the turn of `courtyard` (and `within` it,
/// a sub-item, say) for `purpose`; `None` where writes take turns anyway.
/// Keys that fold to the same number merely take turns too.
pub fn take(
    backend: DbBackend,
    purpose: Purpose,
    courtyard: Uuid,
    within: &str,
) -> Option<Statement> {
    if backend != DbBackend::Postgres {
        return None;
    }
    let (high, low) = courtyard.as_u64_pair();
    let mut folded = (high ^ low) as u32 ^ ((high ^ low) >> 32) as u32;
    // FNV-1a: the same in every replica and every release.
    if !within.is_empty() {
        folded ^= within.bytes().fold(0x811C_9DC5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
    }
    Some(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1, $2)",
        [(purpose as i32).into(), (folded as i32).into()],
    ))
}
