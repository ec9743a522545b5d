//! Reminders: a day before an activity starts, everyone with a confirmed
//! place hears of it in their inbox. Each activity is reminded once (a
//! row in `activity_reminders` marks it, in the transaction of the
//! notice), whichever replica gets there first.

use std::time::Duration;

use chrono::{DateTime, Utc};
use cogov_kit::Result;
use cogov_kit::schema::*;
use cogov_proto::common::NoticeKind;
use cogov_proto::volunteers::{ActivityState, SignupState};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use sea_orm_migration::prelude::*;
use uuid::Uuid;

use crate::entity::{activities as acts, signups, volunteers as vols};
use crate::{Volunteers, activities};

/// How long before the start residents are reminded.
pub const AHEAD: chrono::Duration = chrono::Duration::hours(24);
/// How often due reminders are looked for.
const EVERY: Duration = Duration::from_secs(60);
const TABLE: &str = "activity_reminders";

/// Sends the reminders due at `now`; returns how many activities.
pub async fn remind_due(svc: &Volunteers, now: DateTime<Utc>) -> Result<usize> {
    let reminded = Query::select().column("activity_id").from(TABLE).to_owned();
    let due = acts::Entity::find()
        .filter(acts::Column::State.eq(ActivityState::Published as i32))
        .filter(acts::Column::StartTime.gt(now))
        .filter(acts::Column::StartTime.lte(now + AHEAD))
        .filter(acts::Column::Id.not_in_subquery(reminded))
        .all(svc.ctx.db.read())
        .await?;
    let mut sent = 0;
    for activity in due {
        let txn = svc.ctx.db.begin_write().await?;
        let claimed = txn
            .execute(
                Query::insert()
                    .into_table(TABLE)
                    .columns(["activity_id", "remind_time"])
                    .values_panic([activity.id.into(), now.into()])
                    .on_conflict(OnConflict::column("activity_id").do_nothing().to_owned()),
            )
            .await?
            .rows_affected();
        if claimed == 0 {
            continue;
        }
        let persons: Vec<Uuid> = vols::Entity::find()
            .filter(
                vols::Column::Id.in_subquery(
                    Query::select()
                        .column(signups::Column::VolunteerId)
                        .from(signups::Entity)
                        .and_where(Expr::col(signups::Column::ActivityId).eq(activity.id))
                        .and_where(
                            Expr::col(signups::Column::State).eq(SignupState::Confirmed as i32),
                        )
                        .to_owned(),
                ),
            )
            .all(&txn)
            .await?
            .into_iter()
            .map(|v| v.person_id)
            .collect();
        cogov_kit::events::notices::tell(
            &txn,
            crate::ROLE,
            persons,
            cogov_kit::events::notices::Notice {
                kind: NoticeKind::ActivityStartsSoon,
                subject: &activities::name(activity.id),
                title: &activity.title,
                detail: &activity.start_time.to_rfc3339(),
            },
            now,
        )
        .await?;
        txn.commit().await?;
        svc.ctx.db.outbox_committed();
        sent += 1;
    }
    Ok(sent)
}

/// Runs [`remind_due`] every minute for as long as the process runs.
pub fn spawn(svc: Volunteers) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = remind_due(&svc, svc.ctx.clock.now()).await {
                tracing::warn!(error = %e, "sending activity reminders");
            }
            tokio::time::sleep(EVERY).await;
        }
    })
}

/// Creates `activity_reminders`.
#[derive(Debug)]
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_volunteers_activity_reminders"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> std::result::Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TABLE)
                .col(
                    ColumnDef::new("activity_id")
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(time("remind_time"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> std::result::Result<(), DbErr> {
        m.drop_table(Table::drop().table(TABLE).to_owned()).await
    }
}
