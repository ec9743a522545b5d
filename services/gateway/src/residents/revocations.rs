//! Sessions that ended while their access tokens still run: an access
//! token is checked on every call without the database, so the gateway
//! keeps the recently ended sessions in memory. The replica that ends a
//! session knows at once; the others read the ended sessions of the last
//! access-token lifetime from the database every second.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use cogov_kit::Result;
use cogov_kit::clock::Clock;
use cogov_kit::db::Db;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::sessions::ACCESS_LIFETIME;
use crate::entity::resident_sessions::{Column, Entity};

/// How often the other replicas' endings are read.
pub const POLL: Duration = Duration::from_secs(1);

/// The sessions ended within an access token's lifetime.
#[derive(Debug, Default)]
pub struct Revocations {
    ended: RwLock<HashSet<Uuid>>,
    /// What this replica ended itself, kept across reloads for an access
    /// token's lifetime: a reload whose query began before the ending was
    /// committed must not forget it.
    own: Mutex<Vec<(Uuid, Instant)>>,
}

impl Revocations {
    /// Whether `session` has ended (as far as this replica knows, which is
    /// at most [`POLL`] behind the others).
    pub fn ended(&self, session: Uuid) -> bool {
        self.ended.read().expect("revocations").contains(&session)
    }

    /// Notes a session this replica ended.
    pub fn note(&self, session: Uuid) {
        self.own
            .lock()
            .expect("revocations")
            .push((session, Instant::now()));
        self.ended.write().expect("revocations").insert(session);
    }

    /// Reads the sessions ended since the oldest access token still
    /// running was issued.
    pub async fn reload(&self, db: &Db, now: DateTime<Utc>) -> Result<()> {
        let since = now - ACCESS_LIFETIME - chrono::Duration::minutes(1);
        let ids: Vec<Uuid> = Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::EndTime.gte(since))
            .into_tuple()
            .all(db.read())
            .await?;
        let mut fresh: HashSet<Uuid> = ids.into_iter().collect();
        {
            let mut own = self.own.lock().expect("revocations");
            let keep = (ACCESS_LIFETIME + chrono::Duration::minutes(1))
                .to_std()
                .unwrap_or_default();
            own.retain(|(_, at)| at.elapsed() < keep);
            fresh.extend(own.iter().map(|(id, _)| *id));
        }
        *self.ended.write().expect("revocations") = fresh;
        Ok(())
    }

    /// Reloads every [`POLL`] for as long as the gateway runs.
    pub fn spawn_poller(self: &Arc<Self>, db: Db, clock: Clock) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = this.reload(&db, clock.now()).await {
                    tracing::warn!(error = %e, "reading ended resident sessions");
                }
                tokio::time::sleep(POLL).await;
            }
        })
    }
}
