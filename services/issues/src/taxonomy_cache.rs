//! The sub-items as recently read, for the reads on the write paths: every
//! report looks its sub-item up (deadlines, category, whether it counts
//! toward two-nos), and the taxonomy changes a few times a year.
//!
//! An entry is trusted for [`FRESH_FOR`]: a replica other than the one that
//! changed a sub-item sees the change at most that late (a report taken in
//! that time is one that could have come a moment earlier). The replica
//! that made the change forgets its entry at once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use cogov_kit::Result;
use sea_orm::ConnectionTrait;

use crate::entity::sub_items;
use crate::taxonomy::find_sub_item;

/// How long a read sub-item is used without reading it again.
pub const FRESH_FOR: Duration = Duration::from_secs(2);

/// Sub-items by code, each with when it was read. Codes not found are not
/// kept: a lookup that fails is an error on its way out anyway.
#[derive(Debug, Clone, Default)]
pub struct SubItemCache {
    entries: Arc<RwLock<HashMap<String, (Instant, sub_items::Model)>>>,
}

impl SubItemCache {
    /// The sub-item `code`, read through `conn` unless read lately.
    pub async fn get<C: ConnectionTrait>(
        &self,
        conn: &C,
        code: &str,
    ) -> Result<Option<sub_items::Model>> {
        if let Some((read, item)) = self.entries.read().expect("not poisoned").get(code)
            && read.elapsed() < FRESH_FOR
        {
            return Ok(Some(item.clone()));
        }
        let found = find_sub_item(conn, code).await?;
        let mut entries = self.entries.write().expect("not poisoned");
        match &found {
            Some(item) => entries.insert(code.to_owned(), (Instant::now(), item.clone())),
            None => entries.remove(code),
        };
        Ok(found)
    }

    /// Forgets `code`, changed here: the next lookup reads it.
    pub fn forget(&self, code: &str) {
        self.entries.write().expect("not poisoned").remove(code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cogov_kit::db::{DbConfig, open};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
    use sea_orm_migration::MigratorTrait;

    async fn item(conn: &impl ConnectionTrait, code: &str) -> sub_items::Model {
        sub_items::Entity::find_by_id(code.to_owned())
            .one(conn)
            .await
            .unwrap()
            .unwrap()
    }

    /// An entry is used until forgotten, then read again (its 2 s
    /// freshness is not waited out here).
    #[tokio::test]
    async fn a_sub_item_is_read_again_when_forgotten() {
        let db = open(&DbConfig::new("sqlite::memory:")).await.unwrap();
        let db = db.write();
        crate::Migrator::up(db, None).await.unwrap();
        let cache = SubItemCache::default();
        let code = item_code(db).await;
        let before = cache.get(db, &code).await.unwrap().unwrap();
        let mut edit: sub_items::ActiveModel = item(db, &code).await.into();
        edit.active = Set(!before.active);
        edit.update(db).await.unwrap();
        let cached = cache.get(db, &code).await.unwrap().unwrap();
        assert_eq!(cached.active, before.active, "served from the cache");
        cache.forget(&code);
        let read = cache.get(db, &code).await.unwrap().unwrap();
        assert_eq!(read.active, !before.active, "read again once forgotten");
        assert!(cache.get(db, "no_such_item").await.unwrap().is_none());
    }

    async fn item_code(conn: &impl ConnectionTrait) -> String {
        sub_items::Entity::find()
            .one(conn)
            .await
            .unwrap()
            .unwrap()
            .id
    }
}
