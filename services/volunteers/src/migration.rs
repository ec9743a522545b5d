//! The volunteers service's schema.

use cogov_kit::schema::*;
use sea_orm_migration::prelude::*;

/// The volunteers service's migrations, in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(cogov_kit::idempotency::Migration),
            Box::new(cogov_kit::events::outbox::Migration),
            Box::new(cogov_kit::events::inbox::Migration),
            Box::new(Initial),
            Box::new(crate::reminders::Migration),
            Box::new(cogov_kit::events::outbox::Unpublished),
        ]
    }
}

struct Initial;

impl MigrationName for Initial {
    fn name(&self) -> &str {
        "m0001_volunteers_initial"
    }
}

fn big(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .default(0)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Initial {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};

        m.create_table(
            versioned(
                Table::create()
                    .table("volunteers")
                    .col(id())
                    .col(uuid("person_id"))
                    .col(text("display_name"))
                    .col(uuid("community_id"))
                    .col(text("skills"))
                    .col(text("talents"))
                    .col(text("availability"))
                    .col(text("unavailable"))
                    .col(int("state"))
                    .col(text("phone"))
                    .col(big("approved_minutes"))
                    .col(big("points_balance"))
                    .col(big("points_earned"))
                    .col(big("points_redeemed")),
            )
            .to_owned(),
        )
        .await?;
        m.create_index(
            index("volunteers", "person", &["person_id"])
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(index("volunteers", "community", &["community_id", "id"]))
            .await?;

        m.create_table(
            versioned(
                Table::create()
                    .table("teams")
                    .col(id())
                    .col(text("display_name"))
                    .col(uuid("community_id"))
                    .col(flag("brand"))
                    .col(opt_uuid("leader_id"))
                    .col(text("description"))
                    .col(opt_uuid("organization_id")),
            )
            .foreign_key(&mut fk("teams", "leader_id", "volunteers", Restrict))
            .to_owned(),
        )
        .await?;
        m.create_index(index("teams", "community", &["community_id", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("team_members")
                .col(id())
                .col(uuid("team_id"))
                .col(uuid("volunteer_id"))
                .col(int("role"))
                .col(
                    ColumnDef::new("revision")
                        .big_integer()
                        .not_null()
                        .default(1),
                )
                .col(time("join_time"))
                .foreign_key(&mut fk("team_members", "team_id", "teams", Cascade))
                .foreign_key(&mut fk(
                    "team_members",
                    "volunteer_id",
                    "volunteers",
                    Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "team_members",
                "team_volunteer",
                &["team_id", "volunteer_id"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index("team_members", "volunteer", &["volunteer_id"]))
            .await?;

        m.create_table(
            versioned(
                Table::create()
                    .table("courses")
                    .col(id())
                    .col(text("title"))
                    .col(text("description"))
                    .col(flag("certifies"))
                    .col(int("validity_days"))
                    .col(text("organizer")),
            )
            .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("completions")
                .col(id())
                .col(uuid("course_id"))
                .col(uuid("volunteer_id"))
                .col(time("complete_time"))
                .col(opt_time("expire_time"))
                .col(text("grade"))
                .col(time("create_time"))
                .foreign_key(&mut fk("completions", "course_id", "courses", Restrict))
                .foreign_key(&mut fk(
                    "completions",
                    "volunteer_id",
                    "volunteers",
                    Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "completions",
            "volunteer",
            &["volunteer_id", "course_id"],
        ))
        .await?;
        m.create_index(index("completions", "course", &["course_id", "id"]))
            .await?;

        m.create_table(
            versioned(
                Table::create()
                    .table("activities")
                    .col(id())
                    .col(text("title"))
                    .col(text("theme"))
                    .col(text("description"))
                    .col(uuid("community_id"))
                    .col(opt_uuid("courtyard_id"))
                    .col(opt_uuid("organizing_team_id"))
                    .col(opt_uuid("organizing_organization_id"))
                    .col(text("shared_resource"))
                    .col(time("start_time"))
                    .col(time("end_time"))
                    .col(int("capacity"))
                    .col(int("waitlist_capacity"))
                    .col(text("required_skills"))
                    .col(text("required_certifications"))
                    .col(int("state"))
                    .col(int("confirmed_count"))
                    .col(int("waitlist_count"))
                    .col(int("waitlist_seq"))
                    .col(text("cancel_reason")),
            )
            .foreign_key(&mut fk(
                "activities",
                "organizing_team_id",
                "teams",
                Restrict,
            ))
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "activities",
            "community",
            &["community_id", "start_time", "id"],
        ))
        .await?;
        m.create_index(index("activities", "start", &["start_time", "id"]))
            .await?;
        m.create_index(index("activities", "state", &["state", "start_time"]))
            .await?;

        m.create_table(
            Table::create()
                .table("activity_co_organizers")
                .col(uuid("activity_id"))
                .col(uuid("organization_id"))
                .col(int("position"))
                .primary_key(Index::create().col("activity_id").col("organization_id"))
                .foreign_key(&mut fk(
                    "activity_co_organizers",
                    "activity_id",
                    "activities",
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "activity_co_organizers",
            "organization",
            &["organization_id"],
        ))
        .await?;

        m.create_table(
            versioned(
                Table::create()
                    .table("signups")
                    .col(id())
                    .col(uuid("activity_id"))
                    .col(uuid("volunteer_id"))
                    .col(int("state"))
                    .col(int("position"))
                    .col(time("start_time"))
                    .col(time("end_time"))
                    .col(big("rank"))
                    .col(opt_time("check_in_time"))
                    .col(opt_time("check_out_time")),
            )
            .foreign_key(&mut fk("signups", "activity_id", "activities", Cascade))
            .foreign_key(&mut fk("signups", "volunteer_id", "volunteers", Restrict))
            .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "signups",
                "activity_volunteer",
                &["activity_id", "volunteer_id"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "signups",
            "activity_rank",
            &["activity_id", "rank", "id"],
        ))
        .await?;
        m.create_index(index(
            "signups",
            "volunteer_time",
            &["volunteer_id", "state", "start_time"],
        ))
        .await?;

        m.create_table(
            versioned(
                Table::create()
                    .table("service_records")
                    .col(id())
                    .col(uuid("volunteer_id"))
                    .col(opt_uuid("activity_id"))
                    .col(opt_uuid("team_id"))
                    .col(uuid("community_id"))
                    .col(time("start_time"))
                    .col(int("minutes"))
                    .col(text("description"))
                    .col(int("source"))
                    .col(int("state"))
                    .col(text("reviewer"))
                    .col(text("reject_reason"))
                    .col(opt_time("review_time"))
                    .col(big("points")),
            )
            .foreign_key(&mut fk(
                "service_records",
                "volunteer_id",
                "volunteers",
                Restrict,
            ))
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "service_records",
            "volunteer",
            &["volunteer_id", "id"],
        ))
        .await?;
        m.create_index(index(
            "service_records",
            "state_time",
            &["state", "start_time"],
        ))
        .await?;
        m.create_index(index(
            "service_records",
            "activity",
            &["activity_id", "volunteer_id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("points_entries")
                .col(id())
                .col(uuid("volunteer_id"))
                .col(int("kind"))
                .col(big("points"))
                .col(big("balance_after"))
                .col(opt_uuid("service_record_id"))
                .col(text("item"))
                .col(time("create_time"))
                .foreign_key(&mut fk(
                    "points_entries",
                    "volunteer_id",
                    "volunteers",
                    Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "points_entries",
            "volunteer",
            &["volunteer_id", "id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("time_bank_policy")
                .col(ColumnDef::new("id").integer().not_null().primary_key())
                .col(int("points_per_hour"))
                .col(text("badge_hours"))
                .col(
                    ColumnDef::new("revision")
                        .big_integer()
                        .not_null()
                        .default(1),
                )
                .col(time("update_time"))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table("time_bank_policy")
                .columns([
                    "id",
                    "points_per_hour",
                    "badge_hours",
                    "revision",
                    "update_time",
                ])
                .values_panic([
                    1.into(),
                    10.into(),
                    "[10,50,100]".into(),
                    1i64.into(),
                    chrono::Utc::now().into(),
                ])
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("badges")
                .col(id())
                .col(uuid("volunteer_id"))
                .col(int("hours"))
                .col(time("award_time"))
                .foreign_key(&mut fk("badges", "volunteer_id", "volunteers", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("badges", "volunteer_hours", &["volunteer_id", "hours"])
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("commendations")
                .col(id())
                .col(text("recipient"))
                .col(opt_uuid("community_id"))
                .col(text("title"))
                .col(text("citation"))
                .col(text("issuer"))
                .col(time("award_time"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("commendations", "recipient", &["recipient", "id"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "commendations",
            "badges",
            "time_bank_policy",
            "points_entries",
            "service_records",
            "signups",
            "activity_co_organizers",
            "activities",
            "completions",
            "courses",
            "team_members",
            "teams",
            "volunteers",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
