//! The gateway's schema.

use cogov_kit::schema::*;
use sea_orm_migration::prelude::*;

/// The gateway's migrations, in order.
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
            Box::new(crate::events::Migration),
            Box::new(crate::console::session::Migration),
            Box::new(crate::residents::migration::Migration),
            Box::new(crate::residents::migration::ErasureRequests),
            Box::new(crate::webhooks::Migration),
            Box::new(cogov_kit::events::outbox::Unpublished),
        ]
    }
}

struct Initial;

impl MigrationName for Initial {
    fn name(&self) -> &str {
        "m0001_gateway_initial"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Initial {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::Cascade;

        m.create_table(
            versioned(
                Table::create()
                    .table("partners")
                    .col(id())
                    .col(uuid("organization_id"))
                    .col(text("display_name"))
                    .col(int("kind"))
                    .col(text("contact_email"))
                    .col(int("rate_limit_per_second"))
                    .col(int("rate_limit_burst"))
                    .col(int("state")),
            )
            .to_owned(),
        )
        .await?;
        m.create_index(
            index("partners", "organization", &["organization_id"])
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("api_keys")
                .col(id())
                .col(uuid("partner_id"))
                .col(uuid("organization_id"))
                .col(text("display_name"))
                .col(text("prefix"))
                .col(text("secret_hash"))
                .col(time("expire_time"))
                .col(opt_time("revoke_time"))
                .col(opt_uuid("rotated_from"))
                .col(opt_time("last_use_time"))
                .col(time("create_time"))
                .foreign_key(&mut fk("api_keys", "partner_id", "partners", Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("api_keys", "partner", &["partner_id", "id"]))
            .await?;

        m.create_table(
            versioned(
                Table::create()
                    .table("staff_accounts")
                    .col(id())
                    .col(text("username"))
                    .col(text("display_name"))
                    .col(int("role"))
                    .col(opt_uuid("community_id"))
                    .col(text("password_hash"))
                    .col(flag("disabled"))
                    .col(int("failed_attempts"))
                    .col(opt_time("locked_until")),
            )
            .to_owned(),
        )
        .await?;
        m.create_index(
            index("staff_accounts", "username", &["username"])
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("audit_records")
                .col(id())
                .col(text("subject"))
                .col(ColumnDef::new("principal").binary().not_null())
                .col(opt_uuid("partner_id"))
                .col(text("method"))
                .col(text("target"))
                .col(int("code"))
                .col(text("request_id"))
                .col(text("peer"))
                .col(time("time"))
                .col(
                    ColumnDef::new("duration_micros")
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("audit_records", "time", &["time", "id"]))
            .await?;
        m.create_index(index("audit_records", "partner", &["partner_id", "id"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["audit_records", "staff_accounts", "api_keys", "partners"] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
