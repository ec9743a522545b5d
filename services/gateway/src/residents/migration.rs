//! The residents' tables: sign-in codes (hashed) and each number's last
//! sending, sessions, inboxes, and the gateway's own keys.

use cogov_kit::schema::*;
use sea_orm_migration::prelude::*;

/// Creates the residents' tables.
#[derive(Debug)]
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_gateway_residents"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("gateway_secrets")
                .col(ColumnDef::new("name").string().not_null().primary_key())
                .col(text("value"))
                .col(time("create_time"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("sign_in_codes")
                .col(id())
                .col(text("phone"))
                .col(text("code_hash"))
                .col(int("attempts"))
                .col(text("peer"))
                .col(time("create_time"))
                .col(time("expire_time"))
                .col(opt_time("consume_time"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sign_in_codes", "phone", &["phone", "create_time"]))
            .await?;
        m.create_index(index("sign_in_codes", "peer", &["peer", "create_time"]))
            .await?;
        m.create_index(index("sign_in_codes", "time", &["create_time"]))
            .await?;
        m.create_table(
            Table::create()
                .table(crate::residents::codes::NUMBERS)
                .col(ColumnDef::new("phone").string().not_null().primary_key())
                .col(time("last_send_time"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("resident_sessions")
                .col(id())
                .col(uuid("person_id"))
                .col(text("salt"))
                .col(
                    ColumnDef::new("generation")
                        .big_integer()
                        .not_null()
                        .default(1),
                )
                .col(text("door"))
                .col(text("device"))
                .col(text("peer"))
                .col(time("create_time"))
                .col(time("refresh_time"))
                .col(time("expire_time"))
                .col(opt_time("end_time"))
                .col(int("end_reason"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("resident_sessions", "person", &["person_id", "id"]))
            .await?;
        m.create_index(index("resident_sessions", "end", &["end_time"]))
            .await?;

        m.create_table(
            Table::create()
                .table("resident_notices")
                .col(id())
                .col(uuid("person_id"))
                .col(uuid("event_id"))
                .col(int("kind"))
                .col(text("subject"))
                .col(text("subject_title"))
                .col(text("detail"))
                .col(time("create_time"))
                .col(opt_time("read_time"))
                .col(flag("forwarded"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("resident_notices", "event", &["person_id", "event_id"])
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(index("resident_notices", "person", &["person_id", "id"]))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "resident_notices",
            "resident_sessions",
            crate::residents::codes::NUMBERS,
            "sign_in_codes",
            "gateway_secrets",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

/// Residents' requests to erase their data; one pending per person, also
/// when two requests race.
#[derive(Debug)]
pub struct ErasureRequests;

impl MigrationName for ErasureRequests {
    fn name(&self) -> &str {
        "m0005_gateway_erasure_requests"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ErasureRequests {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("erasure_requests")
                .col(id())
                .col(uuid("person_id"))
                .col(uuid("community_id"))
                .col(text("reason"))
                .col(int("state"))
                .col(text("decided_by"))
                .col(text("decline_reason"))
                .col(time("create_time"))
                .col(opt_time("decide_time"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "erasure_requests",
            "community",
            &["community_id", "id"],
        ))
        .await?;
        m.create_index(index("erasure_requests", "person", &["person_id", "id"]))
            .await?;
        m.create_index(
            index("erasure_requests", "pending", &["person_id"])
                .unique()
                .and_where(Expr::col("state").eq(PENDING))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("erasure_requests").to_owned())
            .await
    }
}

/// `ErasureState::Pending`, as stored.
const PENDING: i32 = cogov_proto::gateway::ErasureState::Pending as i32;
