//! The bulk loader: issues straight into the issues database, in the
//! spreads of a street's history, many rows a statement.

use std::time::{Duration, Instant};

use chrono::Utc;
use cogov_issues::entity::issues as rows;
use cogov_issues::issues::due_at;
use cogov_issues::taxonomy_seed::SUB_ITEMS;
use cogov_kit::db::Db;
use cogov_proto::issues::IssueState;
use rand::{RngExt, SeedableRng};
use sea_orm::{ActiveValue::Set, EntityTrait};
use uuid::Uuid;

/// How long the history runs back.
const HISTORY_DAYS: i64 = 730;

/// An issue's state at `age`: a street works its queue, so the older an
/// issue the likelier it is handled, and a few stay open (and overdue).
fn state_at(age: chrono::Duration, rng: &mut impl rand::Rng) -> i32 {
    let open = match age.num_days() {
        0..2 => 0.6,
        2..7 => 0.25,
        7..30 => 0.08,
        _ => 0.01,
    };
    if rng.random_bool(open) {
        // Reported, acknowledged, dispatched, in progress.
        [1, 2, 3, 5][rng.random_range(0..4)]
    } else {
        // Resolved, closed (most), rejected.
        [6, 7, 7, 7, 7, 7, 7, 9][rng.random_range(0..8)]
    }
}

/// Inserts `n` issues over the last two years in `courtyards` (id,
/// community); returns how long the inserts took. The day counts are left
/// to [`cogov_issues::statistics::day_counts::rebuild`].
pub async fn load(db: &Db, courtyards: &[(Uuid, Uuid)], n: usize) -> Duration {
    let started = Instant::now();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let now = Utc::now();
    // A street dispatches to a few dozen units, not to a new one each time
    // (unique assignees would make every export row look one up).
    let assignees: Vec<Uuid> = (0..24).map(|_| Uuid::now_v7()).collect();
    let mut left = n;
    while left > 0 {
        // SQLite binds at most 32,766 variables a statement: 46 columns × 500.
        let batch = left.min(500);
        left -= batch;
        let mut models = Vec::with_capacity(batch);
        for _ in 0..batch {
            let (courtyard, community) = courtyards[rng.random_range(0..courtyards.len())];
            let item = SUB_ITEMS[rng.random_range(0..SUB_ITEMS.len())];
            let age = chrono::Duration::minutes(rng.random_range(0..HISTORY_DAYS * 24 * 60));
            let created = now - age;
            let state = state_at(age, &mut rng);
            let acked =
                (state != 1).then_some(created + chrono::Duration::hours(rng.random_range(0..30)));
            let resolved = matches!(state, 6 | 7)
                .then_some(created + chrono::Duration::days(rng.random_range(0..10)));
            let respond_by = created + chrono::Duration::hours(item.respond_hours.into());
            let resolve_by = created + chrono::Duration::days(item.resolve_days.into());
            models.push(rows::ActiveModel {
                id: Set(Uuid::now_v7()),
                courtyard_id: Set(courtyard),
                community_id: Set(community),
                building_id: Set(None),
                sub_item_id: Set(item.code.to_owned()),
                category_id: Set(item.category.to_owned()),
                title: Set("bulk".into()),
                description: Set(String::new()),
                latitude: Set(None),
                longitude: Set(None),
                address_text: Set(String::new()),
                media: Set(String::new()),
                channel: Set(1),
                priority: Set(2),
                reporter_id: Set(None),
                contact_name: Set(String::new()),
                contact_phone: Set(String::new()),
                contact_address: Set(String::new()),
                state: Set(state),
                respond_by: Set(respond_by),
                resolve_by: Set(resolve_by),
                due_at: Set(due_at(
                    IssueState::try_from(state).unwrap_or_default(),
                    respond_by,
                    resolve_by,
                )),
                acknowledge_time: Set(acked),
                assignee_id: Set(
                    (state >= 3).then(|| assignees[rng.random_range(0..assignees.len())])
                ),
                dispatch_count: Set(i32::from(state >= 3)),
                resolution_note: Set(String::new()),
                resolution_media: Set(String::new()),
                resolver_id: Set(None),
                resolve_time: Set(resolved),
                satisfaction: Set(if state == 7 {
                    rng.random_range(1..=5)
                } else {
                    0
                }),
                confirm_comment: Set(String::new()),
                confirmer_id: Set(None),
                confirm_time: Set(None),
                close_time: Set(None),
                reject_reason: Set(0),
                duplicate_of: Set(None),
                duplicate_count: Set(0),
                return_count: Set(i32::from(rng.random_bool(0.05))),
                reopen_count: Set(i32::from(rng.random_bool(0.03))),
                cluster_id: Set(None),
                escalated_to: Set(None),
                topic_id: Set(None),
                action_item: Set(String::new()),
                revision: Set(1),
                create_time: Set(created),
                update_time: Set(created),
            });
        }
        let txn = db.begin_write().await.unwrap();
        rows::Entity::insert_many(models)
            .exec_without_returning(&txn)
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }
    started.elapsed()
}
