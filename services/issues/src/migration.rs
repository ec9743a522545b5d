//! The issues service's schema and its default taxonomy.

use cogov_kit::schema::*;
use sea_orm_migration::prelude::*;

use crate::taxonomy_seed::{CATEGORIES, SUB_ITEMS};

/// The issues service's migrations, in order.
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
            Box::new(SeedTaxonomy),
            Box::new(DueTimesAndDayCounts),
            Box::new(Followers),
            Box::new(OpenByPlace),
            Box::new(ShardedDayCounts),
            Box::new(ClusteredOnly),
            Box::new(cogov_kit::events::outbox::Unpublished),
        ]
    }
}

struct Initial;

impl MigrationName for Initial {
    fn name(&self) -> &str {
        "m0001_issues_initial"
    }
}

fn code(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(40).not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Initial {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};

        m.create_table(
            versioned(
                Table::create()
                    .table("categories")
                    .col(code("id").primary_key())
                    .col(text("display_name"))
                    .col(text("english_name"))
                    .col(int("sort_order")),
            )
            .to_owned(),
        )
        .await?;
        m.create_table(
            versioned(
                Table::create()
                    .table("sub_items")
                    .col(code("id").primary_key())
                    .col(code("category_id"))
                    .col(text("display_name"))
                    .col(text("english_name"))
                    .col(int("respond_within_hours"))
                    .col(int("resolve_within_days"))
                    .col(flag("active"))
                    .col(int("sort_order"))
                    .col(flag("two_nos")),
            )
            .foreign_key(&mut fk("sub_items", "category_id", "categories", Restrict))
            .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("issue_clusters")
                .col(id())
                .col(uuid("courtyard_id"))
                .col(uuid("community_id"))
                .col(code("sub_item_id"))
                .col(int("state"))
                .col(opt_uuid("escalated_to"))
                .col(opt_uuid("topic_id"))
                .col(text("note"))
                .col(
                    ColumnDef::new("revision")
                        .big_integer()
                        .not_null()
                        .default(1),
                )
                .col(time("create_time"))
                .col(time("update_time"))
                .foreign_key(&mut fk(
                    "issue_clusters",
                    "sub_item_id",
                    "sub_items",
                    Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "issue_clusters",
            "place",
            &["courtyard_id", "sub_item_id", "state"],
        ))
        .await?;
        m.create_index(index(
            "issue_clusters",
            "community",
            &["community_id", "id"],
        ))
        .await?;

        m.create_table(
            versioned(
                Table::create()
                    .table("issues")
                    .col(id())
                    .col(uuid("courtyard_id"))
                    .col(uuid("community_id"))
                    .col(opt_uuid("building_id"))
                    .col(code("sub_item_id"))
                    .col(code("category_id"))
                    .col(text("title"))
                    .col(text("description"))
                    .col(opt_double("latitude"))
                    .col(opt_double("longitude"))
                    .col(text("address_text"))
                    .col(text("media"))
                    .col(int("channel"))
                    .col(int("priority"))
                    .col(opt_uuid("reporter_id"))
                    .col(text("contact_name"))
                    .col(text("contact_phone"))
                    .col(text("contact_address"))
                    .col(int("state"))
                    .col(time("respond_by"))
                    .col(time("resolve_by"))
                    .col(opt_time("acknowledge_time"))
                    .col(opt_uuid("assignee_id"))
                    .col(int("dispatch_count"))
                    .col(text("resolution_note"))
                    .col(text("resolution_media"))
                    .col(opt_uuid("resolver_id"))
                    .col(opt_time("resolve_time"))
                    .col(int("satisfaction"))
                    .col(text("confirm_comment"))
                    .col(opt_uuid("confirmer_id"))
                    .col(opt_time("confirm_time"))
                    .col(opt_time("close_time"))
                    .col(int("reject_reason"))
                    .col(opt_uuid("duplicate_of"))
                    .col(int("duplicate_count"))
                    .col(int("return_count"))
                    .col(int("reopen_count"))
                    .col(opt_uuid("cluster_id"))
                    .col(opt_uuid("escalated_to"))
                    .col(opt_uuid("topic_id"))
                    .col(text("action_item")),
            )
            .foreign_key(&mut fk("issues", "sub_item_id", "sub_items", Restrict))
            .foreign_key(&mut fk("issues", "duplicate_of", "issues", Restrict))
            .foreign_key(&mut fk("issues", "cluster_id", "issue_clusters", Restrict))
            .to_owned(),
        )
        .await?;
        // The lists users need, each ending in id for keyset paging.
        for (name, cols) in [
            ("courtyard", &["courtyard_id", "id"][..]),
            ("community", &["community_id", "id"][..]),
            ("state", &["state", "id"][..]),
            ("assignee", &["assignee_id", "state", "id"][..]),
            (
                "sub_item",
                &["sub_item_id", "courtyard_id", "create_time"][..],
            ),
            ("respond_by", &["state", "respond_by"][..]),
            ("resolve_by", &["state", "resolve_by"][..]),
            ("create_time", &["create_time", "id"][..]),
            ("community_time", &["community_id", "create_time"][..]),
            ("reporter", &["reporter_id", "id"][..]),
            ("cluster", &["cluster_id"][..]),
        ] {
            m.create_index(index("issues", name, cols)).await?;
        }

        m.create_table(
            Table::create()
                .table("issue_parties")
                .col(uuid("issue_id"))
                .col(uuid("organization_id"))
                .col(time("check_in_by"))
                .col(int("state"))
                .col(text("action_note"))
                .col(opt_time("check_in_time"))
                .col(int("position"))
                .primary_key(Index::create().col("issue_id").col("organization_id"))
                .foreign_key(&mut fk("issue_parties", "issue_id", "issues", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "issue_parties",
            "organization",
            &["organization_id", "state"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("issue_updates")
                .col(id())
                .col(uuid("issue_id"))
                .col(int("kind"))
                .col(int("from_state"))
                .col(int("to_state"))
                .col(text("author"))
                .col(text("text"))
                .col(opt_uuid("organization_id"))
                .col(text("reason_code"))
                .col(flag("internal"))
                .col(text("media"))
                .col(time("create_time"))
                .foreign_key(&mut fk("issue_updates", "issue_id", "issues", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("issue_updates", "issue", &["issue_id", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("inspections")
                .col(id())
                .col(uuid("courtyard_id"))
                .col(uuid("community_id"))
                .col(code("sub_item_id"))
                .col(int("result"))
                .col(text("inspector"))
                .col(text("notes"))
                .col(text("media"))
                .col(time("inspect_time"))
                .col(time("create_time"))
                .foreign_key(&mut fk("inspections", "sub_item_id", "sub_items", Restrict))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "inspections",
            "place",
            &["courtyard_id", "sub_item_id", "inspect_time"],
        ))
        .await?;
        m.create_index(index("inspections", "community", &["community_id", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("two_nos_status")
                .col(
                    ColumnDef::new("courtyard_id")
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(uuid("community_id"))
                .col(flag("met"))
                .col(opt_time("last_met_time"))
                .col(time("update_time"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "two_nos_status",
            "community",
            &["community_id", "courtyard_id"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "two_nos_status",
            "inspections",
            "issue_updates",
            "issue_parties",
            "issues",
            "issue_clusters",
            "sub_items",
            "categories",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

struct SeedTaxonomy;

impl MigrationName for SeedTaxonomy {
    fn name(&self) -> &str {
        "m0002_issues_seed_taxonomy"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SeedTaxonomy {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6);
        let mut categories = Query::insert()
            .into_table("categories")
            .columns([
                "id",
                "display_name",
                "english_name",
                "sort_order",
                "revision",
                "create_time",
                "update_time",
            ])
            .to_owned();
        for (i, (code, zh, en)) in CATEGORIES.iter().enumerate() {
            categories.values_panic([
                (*code).into(),
                (*zh).into(),
                (*en).into(),
                (i as i32 + 1).into(),
                1i64.into(),
                now.into(),
                now.into(),
            ]);
        }
        m.exec_stmt(categories).await?;
        let mut items = Query::insert()
            .into_table("sub_items")
            .columns([
                "id",
                "category_id",
                "display_name",
                "english_name",
                "respond_within_hours",
                "resolve_within_days",
                "active",
                "sort_order",
                "two_nos",
                "revision",
                "create_time",
                "update_time",
            ])
            .to_owned();
        for (i, s) in SUB_ITEMS.iter().enumerate() {
            items.values_panic([
                s.code.into(),
                s.category.into(),
                s.zh.into(),
                s.en.into(),
                s.respond_hours.into(),
                s.resolve_days.into(),
                true.into(),
                (i as i32 + 1).into(),
                s.two_nos.into(),
                1i64.into(),
                now.into(),
                now.into(),
            ]);
        }
        m.exec_stmt(items).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.exec_stmt(Query::delete().from_table("sub_items").to_owned())
            .await?;
        m.exec_stmt(Query::delete().from_table("categories").to_owned())
            .await
    }
}

/// The stored due time behind the `overdue` filter, and the day counts
/// behind the statistics, both filled from the issues already stored.
struct DueTimesAndDayCounts;

impl MigrationName for DueTimesAndDayCounts {
    fn name(&self) -> &str {
        "m0003_issues_due_times_and_day_counts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for DueTimesAndDayCounts {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use cogov_proto::issues::IssueState;

        m.alter_table(
            Table::alter()
                .table("issues")
                .add_column(opt_time("due_at"))
                .to_owned(),
        )
        .await?;
        let open: Vec<i32> = crate::lifecycle::OPEN
            .iter()
            .filter(|s| **s != IssueState::Reported)
            .map(|s| *s as i32)
            .collect();
        let earlier = Expr::case(
            Expr::col("respond_by").lt(Expr::col("resolve_by")),
            Expr::col("respond_by"),
        )
        .finally(Expr::col("resolve_by"));
        let due = Expr::case(Expr::col("state").eq(IssueState::Reported as i32), earlier)
            .case(Expr::col("state").is_in(open), Expr::col("resolve_by"))
            .finally(Expr::null());
        m.exec_stmt(
            Query::update()
                .table("issues")
                .value("due_at", due)
                .to_owned(),
        )
        .await?;
        // Covering for the statistics' overdue counts, which then read no
        // issue rows.
        m.create_index(index(
            "issues",
            "overdue",
            &[
                "due_at",
                "create_time",
                "community_id",
                "courtyard_id",
                "state",
            ],
        ))
        .await?;
        // The open issues, newest first: ListIssues' `overdue` pages walk
        // these few instead of every issue.
        m.create_index(
            index("issues", "open", &["id"])
                .and_where(Expr::col("due_at").is_not_null())
                .to_owned(),
        )
        .await?;

        create_day_counts(m, false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("issue_day_counts").to_owned())
            .await?;
        m.drop_index(
            Index::drop()
                .name("ix_issues_open")
                .table("issues")
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_issues_overdue")
                .table("issues")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("issues")
                .drop_column("due_at")
                .to_owned(),
        )
        .await
    }
}

/// Residents following issues they did not report.
struct Followers;

impl MigrationName for Followers {
    fn name(&self) -> &str {
        "m0004_issue_followers"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Followers {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("issue_followers")
                .col(uuid("issue_id"))
                .col(uuid("person_id"))
                .col(time("create_time"))
                .primary_key(Index::create().col("issue_id").col("person_id"))
                .to_owned(),
        )
        .await?;
        // A resident's followed issues (the app's "following" list).
        m.create_index(index(
            "issue_followers",
            "person",
            &["person_id", "issue_id"],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("issue_followers").to_owned())
            .await
    }
}

/// The open issues of a courtyard and sub-item, for the two-nos recount a
/// change of a two-nos issue or inspection runs: it reads the open ones
/// only, not every issue the pair ever had. Partial (open issues only, as
/// `ix_issues_open`), so it stays small however long the history.
struct OpenByPlace;

impl MigrationName for OpenByPlace {
    fn name(&self) -> &str {
        "m0005_issues_open_by_place"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for OpenByPlace {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            index("issues", "open_place", &["courtyard_id", "sub_item_id"])
                .and_where(Expr::col("due_at").is_not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_issues_open_place")
                .table("issues")
                .to_owned(),
        )
        .await
    }
}

/// The day counts' table, with a shard in its key or (as first made)
/// without, filled from the issues.
async fn create_day_counts(m: &SchemaManager<'_>, sharded: bool) -> Result<(), DbErr> {
    let mut key = Index::create();
    key.col("day").col("courtyard_id");
    let mut table = Table::create();
    table
        .table("issue_day_counts")
        .col(ColumnDef::new("day").string_len(10).not_null())
        .col(uuid("courtyard_id"));
    if sharded {
        table.col(
            ColumnDef::new("shard")
                .small_integer()
                .not_null()
                .default(0),
        );
        key.col("shard");
    }
    table
        .col(uuid("community_id"))
        .col(int("reported"))
        .col(int("responded_in_time"))
        .col(int("resolved"))
        .col(int("rated"))
        .col(int("satisfied"))
        .col(int("dispatched"))
        .col(int("returned"))
        .col(int("ever_resolved"))
        .col(int("reopened"))
        .primary_key(&mut key);
    m.create_table(table.to_owned()).await?;
    crate::statistics::day_counts::rebuild(m.get_connection())
        .await
        .map_err(|e| DbErr::Migration(e.to_string()))
}

/// A shard in the day counts' key, so that concurrent writes in one
/// courtyard on PostgreSQL each add to a row of their own instead of
/// queueing for one row lock until the holder commits. The counts are
/// rebuilt from the issues: replicas still running the previous release
/// must be stopped first, as their upsert names the old key.
struct ShardedDayCounts;

impl MigrationName for ShardedDayCounts {
    fn name(&self) -> &str {
        "m0006_issue_day_counts_sharded"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ShardedDayCounts {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("issue_day_counts").to_owned())
            .await?;
        create_day_counts(m, true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("issue_day_counts").to_owned())
            .await?;
        create_day_counts(m, false).await
    }
}

/// The index of issues by cluster holds the issues in one, not the many
/// outside any: every lookup by cluster names one, and a report, which
/// has none yet, then writes one B-tree less. Indexed, `cluster_id IS
/// NULL` (a report's gathering: its issue and the newest others, found by
/// id, that are in no cluster yet) tempted PostgreSQL, its statistics
/// stale during a burst of reports, into walking nearly every issue of
/// the street instead of the few by primary key.
struct ClusteredOnly;

impl MigrationName for ClusteredOnly {
    fn name(&self) -> &str {
        "m0007_issues_clustered_only"
    }
}

impl ClusteredOnly {
    async fn cluster_index(m: &SchemaManager<'_>, partial: bool) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_issues_cluster")
                .table("issues")
                .to_owned(),
        )
        .await?;
        let mut index = index("issues", "cluster", &["cluster_id"]);
        if partial {
            index.and_where(Expr::col("cluster_id").is_not_null());
        }
        m.create_index(index).await
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ClusteredOnly {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        Self::cluster_index(m, true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        Self::cluster_index(m, false).await
    }
}
