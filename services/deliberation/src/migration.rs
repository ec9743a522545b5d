//! The deliberation service's schema.

use cogov_kit::schema::*;
use sea_orm::Statement;
use sea_orm_migration::prelude::*;

/// The deliberation service's migrations, in order.
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
            Box::new(ActionItemIssueRevision),
            Box::new(PollVoters),
            Box::new(cogov_kit::events::outbox::Unpublished),
        ]
    }
}

struct Initial;

impl MigrationName for Initial {
    fn name(&self) -> &str {
        "m0001_deliberation_initial"
    }
}

fn double(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .double()
        .not_null()
        .default(0.0)
        .to_owned()
}

fn date(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).date().not_null().to_owned()
}

fn opt_date(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).date().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Initial {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};

        m.create_table(
            versioned(
                Table::create()
                    .table("councils")
                    .col(id())
                    .col(text("display_name"))
                    .col(uuid("community_id"))
                    .col(opt_uuid("courtyard_id"))
                    .col(text("description"))
                    .col(int("support_threshold"))
                    .col(double("quorum_share"))
                    .col(text("quorum_required_kinds")),
            )
            .to_owned(),
        )
        .await?;
        m.create_index(index("councils", "community", &["community_id", "id"]))
            .await?;
        m.create_index(index("councils", "courtyard", &["courtyard_id"]))
            .await?;

        m.create_table(
            versioned(
                Table::create()
                    .table("seats")
                    .col(id())
                    .col(uuid("council_id"))
                    .col(uuid("person_id"))
                    .col(int("kind"))
                    .col(opt_uuid("organization_id"))
                    .col(date("start_date"))
                    .col(opt_date("end_date")),
            )
            .foreign_key(&mut fk("seats", "council_id", "councils", Cascade))
            .to_owned(),
        )
        .await?;
        m.create_index(index("seats", "council", &["council_id", "id"]))
            .await?;
        m.create_index(index("seats", "person", &["person_id"]))
            .await?;
        m.create_index(index("seats", "organization", &["organization_id"]))
            .await?;

        m.create_table(
            versioned(
                Table::create()
                    .table("topics")
                    .col(id())
                    .col(uuid("council_id"))
                    .col(uuid("community_id"))
                    .col(text("title"))
                    .col(text("description"))
                    .col(int("source"))
                    .col(text("proposer"))
                    .col(opt_uuid("proposer_person"))
                    .col(opt_uuid("proposer_organization"))
                    .col(text("evidence_issues"))
                    .col(text("cluster"))
                    .col(int("support_count"))
                    .col(int("support_threshold"))
                    .col(int("state"))
                    .col(text("close_reason")),
            )
            .foreign_key(&mut fk("topics", "council_id", "councils", Restrict))
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "topics",
            "council",
            &["council_id", "create_time", "id"],
        ))
        .await?;
        m.create_index(index("topics", "state", &["state", "create_time", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("topic_supports")
                .col(id())
                .col(uuid("topic_id"))
                .col(uuid("person_id"))
                .col(time("create_time"))
                .foreign_key(&mut fk("topic_supports", "topic_id", "topics", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("topic_supports", "topic_person", &["topic_id", "person_id"])
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("opinions")
                .col(id())
                .col(uuid("topic_id"))
                .col(uuid("author_id"))
                .col(int("stance"))
                .col(text("text"))
                .col(opt_uuid("reply_to"))
                .col(flag("hidden"))
                .col(text("hide_reason"))
                .col(text("moderator"))
                .col(time("create_time"))
                .foreign_key(&mut fk("opinions", "topic_id", "topics", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "opinions",
            "topic",
            &["topic_id", "create_time", "id"],
        ))
        .await?;

        m.create_table(
            versioned(
                Table::create()
                    .table("meetings")
                    .col(id())
                    .col(uuid("council_id"))
                    .col(text("title"))
                    .col(int("mode"))
                    .col(text("location"))
                    .col(text("online_url"))
                    .col(time("start_time"))
                    .col(opt_time("end_time"))
                    .col(text("agenda"))
                    .col(text("quorum"))
                    .col(int("state"))
                    .col(text("minutes"))
                    .col(int("attendance_count")),
            )
            .foreign_key(&mut fk("meetings", "council_id", "councils", Restrict))
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "meetings",
            "council",
            &["council_id", "start_time", "id"],
        ))
        .await?;
        m.create_index(index("meetings", "start", &["start_time", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("attendances")
                .col(id())
                .col(uuid("meeting_id"))
                .col(uuid("person_id"))
                .col(opt_uuid("seat_id"))
                .col(text("seat_kinds"))
                .col(flag("voting"))
                .col(int("mode"))
                .col(time("sign_in_time"))
                .foreign_key(&mut fk("attendances", "meeting_id", "meetings", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "attendances",
                "meeting_person",
                &["meeting_id", "person_id"],
            )
            .unique()
            .to_owned(),
        )
        .await?;

        m.create_table(
            versioned(
                Table::create()
                    .table("polls")
                    .col(id())
                    .col(uuid("topic_id"))
                    .col(uuid("council_id"))
                    .col(opt_uuid("meeting_id"))
                    .col(text("title"))
                    .col(text("details"))
                    .col(int("method"))
                    .col(text("options"))
                    .col(int("min_choices"))
                    .col(int("max_choices"))
                    .col(int("dots_per_voter"))
                    .col(int("count_target"))
                    .col(time("close_time"))
                    .col(opt_time("closed_time"))
                    .col(flag("anonymous"))
                    .col(int("results_visibility"))
                    .col(int("eligibility"))
                    .col(text("eligible_persons"))
                    .col(text("eligible_snapshot"))
                    .col(int("eligible_count"))
                    .col(int("quorum_percent"))
                    .col(int("state"))
                    .col(int("ballot_count"))
                    .col(text("salt")),
            )
            .foreign_key(&mut fk("polls", "topic_id", "topics", Restrict))
            .to_owned(),
        )
        .await?;
        m.create_index(index("polls", "topic", &["topic_id", "create_time", "id"]))
            .await?;
        m.create_index(index(
            "polls",
            "council",
            &["council_id", "create_time", "id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("ballots")
                .col(id())
                .col(uuid("poll_id"))
                .col(text("voter_key"))
                .col(opt_uuid("voter_id"))
                .col(text("choices"))
                .col(text("reason"))
                .col(int("channel"))
                .col(opt_uuid("proxy_holder_id"))
                .col(time("create_time"))
                .col(time("update_time"))
                .foreign_key(&mut fk("ballots", "poll_id", "polls", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ballots", "poll_voter", &["poll_id", "voter_key"])
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("ballot_audit")
                .col(id())
                .col(uuid("poll_id"))
                .col(uuid("ballot_id"))
                .col(int("channel"))
                .col(opt_uuid("proxy_holder_id"))
                .col(text("recorder"))
                .col(time("time"))
                .foreign_key(&mut fk("ballot_audit", "poll_id", "polls", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ballot_audit", "poll", &["poll_id", "time"]))
            .await?;

        m.create_table(
            Table::create()
                .table("offline_tallies")
                .col(id())
                .col(uuid("poll_id"))
                .col(opt_uuid("meeting_id"))
                .col(text("counts"))
                .col(int("voters"))
                .col(text("recorder"))
                .col(time("create_time"))
                .foreign_key(&mut fk("offline_tallies", "poll_id", "polls", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("offline_tallies", "poll", &["poll_id"]))
            .await?;

        m.create_table(
            versioned(
                Table::create()
                    .table("resolutions")
                    .col(id())
                    .col(uuid("topic_id"))
                    .col(uuid("council_id"))
                    .col(opt_uuid("poll_id"))
                    .col(text("chosen_option"))
                    .col(text("statement"))
                    .col(opt_date("review_date"))
                    .col(int("state")),
            )
            .foreign_key(&mut fk("resolutions", "topic_id", "topics", Restrict))
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "resolutions",
            "council",
            &["council_id", "create_time", "id"],
        ))
        .await?;
        m.create_index(index("resolutions", "topic", &["topic_id"]))
            .await?;

        m.create_table(
            versioned(
                Table::create()
                    .table("action_items")
                    .col(id())
                    .col(uuid("resolution_id"))
                    .col(uuid("council_id"))
                    .col(text("description"))
                    .col(uuid("owner_id"))
                    .col(date("due_date"))
                    .col(int("status"))
                    .col(int("progress"))
                    .col(text("issue"))
                    .col(text("notes"))
                    .col(opt_time("done_time")),
            )
            .foreign_key(&mut fk(
                "action_items",
                "resolution_id",
                "resolutions",
                Cascade,
            ))
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "action_items",
            "resolution",
            &["resolution_id", "create_time", "id"],
        ))
        .await?;
        m.create_index(index("action_items", "council", &["council_id"]))
            .await?;
        m.create_index(index("action_items", "owner", &["owner_id"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "action_items",
            "resolutions",
            "offline_tallies",
            "ballot_audit",
            "ballots",
            "polls",
            "attendances",
            "meetings",
            "opinions",
            "topic_supports",
            "topics",
            "seats",
            "councils",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

/// The revision of the carrying issue an action item last followed, so an
/// older issue event never undoes a newer one.
struct ActionItemIssueRevision;

impl MigrationName for ActionItemIssueRevision {
    fn name(&self) -> &str {
        "m0002_deliberation_action_item_issue_revision"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ActionItemIssueRevision {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("action_items")
                .add_column(
                    ColumnDef::new("issue_revision")
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("action_items")
                .drop_column("issue_revision")
                .to_owned(),
        )
        .await
    }
}

/// Who may vote in a poll, a row each, fixed when it opens: a ballot looks
/// its voter up by key instead of reading the whole list, and no longer
/// counts itself on the poll's row (ballots are counted when a poll is
/// read), so concurrent voters do not queue on that row.
struct PollVoters;

impl MigrationName for PollVoters {
    fn name(&self) -> &str {
        "m0003_deliberation_poll_voters"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for PollVoters {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("poll_voters")
                .col(uuid("poll_id"))
                .col(uuid("person_id"))
                .primary_key(Index::create().col("poll_id").col("person_id"))
                .foreign_key(&mut fk(
                    "poll_voters",
                    "poll_id",
                    "polls",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let polls = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT id, eligible_snapshot FROM polls WHERE eligible_snapshot <> ''",
            ))
            .await?;
        for poll in polls {
            let id: uuid::Uuid = poll.try_get("", "id")?;
            let snapshot: String = poll.try_get("", "eligible_snapshot")?;
            let voters = cogov_kit::json::from_json::<uuid::Uuid>(&snapshot);
            // Its own statements, not the live `polls::voters`: what this
            // migration does must not change when that module does.
            for chunk in voters.chunks(500) {
                let mut insert = Query::insert();
                insert
                    .into_table("poll_voters")
                    .columns(["poll_id", "person_id"]);
                for voter in chunk {
                    insert.values_panic([id.into(), (*voter).into()]);
                }
                db.execute(&insert).await?;
            }
        }
        for column in ["eligible_snapshot", "ballot_count"] {
            m.alter_table(Table::alter().table("polls").drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new("eligible_snapshot")
                .text()
                .not_null()
                .default("")
                .to_owned(),
            ColumnDef::new("ballot_count")
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
        ] {
            m.alter_table(Table::alter().table("polls").add_column(column).to_owned())
                .await?;
        }
        let db = m.get_connection();
        let backend = db.get_database_backend();
        let polls = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT DISTINCT poll_id FROM poll_voters",
            ))
            .await?;
        for poll in polls {
            let id: uuid::Uuid = poll.try_get("", "poll_id")?;
            let voters = db
                .query_all(
                    Query::select()
                        .column("person_id")
                        .from("poll_voters")
                        .and_where(Expr::col("poll_id").eq(id))
                        .order_by("person_id", sea_orm::Order::Asc),
                )
                .await?
                .iter()
                .map(|row| row.try_get::<uuid::Uuid>("", "person_id"))
                .collect::<Result<Vec<_>, _>>()?;
            db.execute(
                Query::update()
                    .table("polls")
                    .value("eligible_snapshot", cogov_kit::json::to_json(&voters))
                    .and_where(Expr::col("id").eq(id)),
            )
            .await?;
        }
        db.execute_unprepared(
            "UPDATE polls SET ballot_count = \
             (SELECT COUNT(*) FROM ballots WHERE ballots.poll_id = polls.id)",
        )
        .await?;
        m.drop_table(Table::drop().table("poll_voters").to_owned())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cogov_kit::testing::TestDb;
    use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
    use uuid::Uuid;

    /// Migrations before `PollVoters`.
    const BEFORE_POLL_VOTERS: u32 = 5;

    async fn one(db: &DatabaseConnection, sql: &str) -> sea_orm::QueryResult {
        db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn an_open_polls_voters_and_ballots_move_over_and_back() {
        let file = TestDb::sqlite();
        // One connection, so that the pragma below holds for every statement.
        let mut options = ConnectOptions::new(&file.url);
        options.max_connections(1);
        let db = Database::connect(options).await.unwrap();
        Migrator::up(&db, Some(BEFORE_POLL_VOTERS)).await.unwrap();
        // An open poll as the earlier schema kept it: its voters as JSON,
        // its ballots counted on its row.
        let (poll, voters) = (Uuid::new_v4(), [Uuid::new_v4(), Uuid::new_v4()]);
        db.execute_unprepared("PRAGMA foreign_keys = OFF")
            .await
            .unwrap();
        db.execute(
            Query::insert()
                .into_table("polls")
                .columns([
                    "id",
                    "topic_id",
                    "council_id",
                    "title",
                    "details",
                    "method",
                    "options",
                    "min_choices",
                    "max_choices",
                    "dots_per_voter",
                    "count_target",
                    "close_time",
                    "anonymous",
                    "results_visibility",
                    "eligibility",
                    "eligible_persons",
                    "eligible_snapshot",
                    "eligible_count",
                    "quorum_percent",
                    "state",
                    "ballot_count",
                    "salt",
                    "revision",
                    "create_time",
                    "update_time",
                ])
                .values_panic([
                    poll.into(),
                    Uuid::new_v4().into(),
                    Uuid::new_v4().into(),
                    "Shall we?".into(),
                    "".into(),
                    1.into(),
                    "[]".into(),
                    0.into(),
                    0.into(),
                    0.into(),
                    0.into(),
                    chrono::Utc::now().into(),
                    false.into(),
                    0.into(),
                    1.into(),
                    "[]".into(),
                    cogov_kit::json::to_json(&voters).into(),
                    2.into(),
                    0.into(),
                    2.into(),
                    1.into(),
                    "salt".into(),
                    2i64.into(),
                    chrono::Utc::now().into(),
                    chrono::Utc::now().into(),
                ]),
        )
        .await
        .unwrap();
        db.execute(
            Query::insert()
                .into_table("ballots")
                .columns([
                    "id",
                    "poll_id",
                    "voter_key",
                    "voter_id",
                    "choices",
                    "reason",
                    "channel",
                    "create_time",
                    "update_time",
                ])
                .values_panic([
                    Uuid::new_v4().into(),
                    poll.into(),
                    voters[0].to_string().into(),
                    voters[0].into(),
                    "[]".into(),
                    "".into(),
                    1.into(),
                    chrono::Utc::now().into(),
                    chrono::Utc::now().into(),
                ]),
        )
        .await
        .unwrap();

        // `PollVoters` alone, which the `down` below undoes.
        Migrator::up(&db, Some(1)).await.unwrap();
        // In id order, as `all` gives them.
        let moved = crate::polls::voters::all(&db, poll).await.unwrap();
        let mut expected = voters.to_vec();
        expected.sort();
        assert_eq!(moved, expected);
        for voter in voters {
            assert!(
                crate::polls::voters::contains(&db, poll, voter)
                    .await
                    .unwrap()
            );
        }
        assert!(
            !crate::polls::voters::contains(&db, poll, Uuid::new_v4())
                .await
                .unwrap()
        );

        Migrator::down(&db, Some(1)).await.unwrap();
        let back = one(&db, "SELECT eligible_snapshot, ballot_count FROM polls").await;
        let snapshot: String = back.try_get("", "eligible_snapshot").unwrap();
        let mut snapshot = cogov_kit::json::from_json::<Uuid>(&snapshot);
        snapshot.sort();
        assert_eq!(snapshot, expected);
        assert_eq!(back.try_get::<i32>("", "ballot_count").unwrap(), 1);
    }
}
