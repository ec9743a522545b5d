//! The webhooks' tables: partners' endpoints, the deliveries to them, and
//! how far the fan-out has read the event log; and the event log's note of
//! the partner an event belongs to.

use cogov_kit::schema::*;
use sea_orm_migration::prelude::*;

/// Creates the webhooks' tables.
#[derive(Debug)]
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0006_gateway_webhooks"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::Cascade;

        m.create_table(
            versioned(
                Table::create()
                    .table("webhook_endpoints")
                    .col(id())
                    .col(uuid("partner_id"))
                    .col(uuid("organization_id"))
                    .col(text("url"))
                    .col(text("description"))
                    .col(text("event_types"))
                    .col(int("state"))
                    .col(text("disabled_reason"))
                    .col(text("secret"))
                    .col(ColumnDef::new("previous_secret").text().null())
                    .col(opt_time("previous_secret_expire_time"))
                    .col(opt_time("failing_since"))
                    .foreign_key(&mut fk(
                        "webhook_endpoints",
                        "partner_id",
                        "partners",
                        Cascade,
                    )),
            )
            .to_owned(),
        )
        .await?;
        m.create_index(index("webhook_endpoints", "partner", &["partner_id", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("webhook_deliveries")
                .col(id())
                .col(uuid("endpoint_id"))
                .col(uuid("partner_id"))
                .col(uuid("event_id"))
                .col(text("event_type"))
                .col(ColumnDef::new("body").binary().not_null())
                .col(int("state"))
                .col(int("attempts"))
                .col(int("retries"))
                .col(int("response_code"))
                .col(
                    ColumnDef::new("latency_micros")
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(text("last_error"))
                .col(time("next_attempt_time"))
                .col(opt_time("last_attempt_time"))
                .col(time("create_time"))
                .foreign_key(&mut fk(
                    "webhook_deliveries",
                    "endpoint_id",
                    "webhook_endpoints",
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;
        // An event reaches an endpoint once, whoever fans it out again.
        m.create_index(
            index("webhook_deliveries", "event", &["endpoint_id", "event_id"])
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "webhook_deliveries",
            "due",
            &["state", "next_attempt_time"],
        ))
        .await?;
        m.create_index(index(
            "webhook_deliveries",
            "listing",
            &["endpoint_id", "id"],
        ))
        .await?;

        // A partner's own events (its endpoints') reach it whatever its
        // agreements say: the log keeps whose they are.
        m.alter_table(
            Table::alter()
                .table("event_log")
                .add_column(text("partner"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("webhook_fanout")
                .col(ColumnDef::new("name").string().not_null().primary_key())
                .col(
                    ColumnDef::new("after_seq")
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["webhook_fanout", "webhook_deliveries", "webhook_endpoints"] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table("event_log")
                .drop_column("partner")
                .to_owned(),
        )
        .await
    }
}
