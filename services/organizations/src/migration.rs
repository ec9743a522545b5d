//! The service's schema, run at start (`cogov serve`, `cogov up`) or by
//! `cogov migrate`. The same migrations serve SQLite and PostgreSQL.

use cogov_kit::schema::*;
use sea_orm_migration::prelude::*;

/// The organizations service's migrations, in order.
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
            Box::new(ResidentIdentity),
            Box::new(ErasablePhones),
            Box::new(cogov_kit::events::outbox::Unpublished),
        ]
    }
}

struct Initial;

impl MigrationName for Initial {
    fn name(&self) -> &str {
        "m0001_organizations_initial"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Initial {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};

        m.create_table(
            versioned(
                Table::create()
                    .table("places")
                    .col(id())
                    .col(ColumnDef::new("kind").small_integer().not_null())
                    .col(opt_uuid("parent_id"))
                    .col(opt_uuid("street_id"))
                    .col(opt_uuid("community_id"))
                    .col(opt_uuid("courtyard_id"))
                    .col(text("display_name"))
                    .col(text("code"))
                    .col(text("district"))
                    .col(text("address"))
                    .col(int("courtyard_kind"))
                    .col(int("household_count"))
                    .col(int("floor_count"))
                    .col(ColumnDef::new("latitude").double().null())
                    .col(ColumnDef::new("longitude").double().null())
                    .col(text("theme"))
                    .col(opt_uuid("pairing_community_id"))
                    .col(flag("pilot"))
                    .col(flag("two_nos_met"))
                    .col(opt_time("two_nos_last_met_time"))
                    .col(opt_time("two_nos_update_time")),
            )
            .foreign_key(&mut fk("places", "parent_id", "places", Restrict))
            .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("kind_name", &["kind", "display_name", "id"][..]),
            ("parent", &["parent_id", "kind", "id"][..]),
            ("street", &["street_id", "kind", "id"][..]),
            ("community", &["community_id", "kind", "id"][..]),
            ("courtyard", &["courtyard_id", "kind", "id"][..]),
        ] {
            m.create_index(index("places", name, cols)).await?;
        }

        m.create_table(
            versioned(
                Table::create()
                    .table("organizations")
                    .col(id())
                    .col(text("display_name"))
                    .col(int("kind"))
                    .col(opt_uuid("parent_id"))
                    .col(opt_uuid("place_id"))
                    .col(ColumnDef::new("place_kind").small_integer().null())
                    .col(opt_uuid("community_id"))
                    .col(text("description"))
                    .col(text("credit_code"))
                    .col(text("phone"))
                    .col(text("address")),
            )
            .foreign_key(&mut fk(
                "organizations",
                "parent_id",
                "organizations",
                Restrict,
            ))
            .foreign_key(&mut fk("organizations", "place_id", "places", Restrict))
            .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("parent", &["parent_id", "id"][..]),
            ("kind", &["kind", "id"][..]),
            ("community", &["community_id", "id"][..]),
            ("place", &["place_id", "id"][..]),
            ("name", &["display_name", "id"][..]),
        ] {
            m.create_index(index("organizations", name, cols)).await?;
        }

        m.create_table(
            versioned(
                Table::create()
                    .table("persons")
                    .col(id())
                    .col(text("display_name"))
                    .col(uuid("community_id"))
                    .col(opt_uuid("courtyard_id"))
                    .col(opt_uuid("building_id"))
                    .col(text("phone"))
                    .col(text("address"))
                    .col(flag("party_member"))
                    .col(opt_uuid("double_report_unit_id"))
                    .col(flag("building_head"))
                    .col(flag("backbone")),
            )
            .foreign_key(&mut fk("persons", "community_id", "places", Restrict))
            .foreign_key(&mut fk("persons", "courtyard_id", "places", Restrict))
            .foreign_key(&mut fk("persons", "building_id", "places", Restrict))
            .foreign_key(&mut fk(
                "persons",
                "double_report_unit_id",
                "organizations",
                Restrict,
            ))
            .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("community", &["community_id", "id"][..]),
            ("courtyard", &["courtyard_id", "id"][..]),
            ("building", &["building_id", "id"][..]),
            ("name", &["display_name", "id"][..]),
        ] {
            m.create_index(index("persons", name, cols)).await?;
        }

        m.create_table(
            versioned(
                Table::create()
                    .table("memberships")
                    .col(id())
                    .col(uuid("person_id"))
                    .col(uuid("organization_id"))
                    .col(int("role"))
                    .col(text("title"))
                    .col(ColumnDef::new("start_date").date().null())
                    .col(ColumnDef::new("end_date").date().null()),
            )
            .foreign_key(&mut fk("memberships", "person_id", "persons", Restrict))
            .foreign_key(&mut fk(
                "memberships",
                "organization_id",
                "organizations",
                Restrict,
            ))
            .to_owned(),
        )
        .await?;
        m.create_index(index("memberships", "person", &["person_id", "id"]))
            .await?;
        m.create_index(index(
            "memberships",
            "organization",
            &["organization_id", "id"],
        ))
        .await?;

        m.create_table(
            versioned(
                Table::create()
                    .table("agreements")
                    .col(id())
                    .col(int("kind"))
                    .col(uuid("organization_id"))
                    .col(text("title"))
                    .col(text("description"))
                    .col(time("start_time"))
                    .col(opt_time("end_time"))
                    .col(opt_time("terminate_time"))
                    .col(text("terminate_reason")),
            )
            .foreign_key(&mut fk(
                "agreements",
                "organization_id",
                "organizations",
                Restrict,
            ))
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "agreements",
            "organization",
            &["organization_id", "id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("agreement_places")
                .col(uuid("agreement_id"))
                .col(uuid("place_id"))
                .col(ColumnDef::new("place_kind").small_integer().not_null())
                .col(uuid("community_id"))
                .col(int("position"))
                .primary_key(Index::create().col("agreement_id").col("place_id"))
                .foreign_key(&mut fk(
                    "agreement_places",
                    "agreement_id",
                    "agreements",
                    Cascade,
                ))
                .foreign_key(&mut fk("agreement_places", "place_id", "places", Restrict))
                .to_owned(),
        )
        .await?;
        m.create_index(index("agreement_places", "place", &["place_id"]))
            .await?;
        m.create_index(index("agreement_places", "community", &["community_id"]))
            .await?;

        m.create_table(
            versioned(
                Table::create()
                    .table("shared_resources")
                    .col(id())
                    .col(text("display_name"))
                    .col(int("kind"))
                    .col(uuid("owner_id"))
                    .col(uuid("community_id"))
                    .col(opt_uuid("courtyard_id"))
                    .col(text("description"))
                    .col(int("capacity"))
                    .col(text("availability"))
                    .col(flag("open")),
            )
            .foreign_key(&mut fk(
                "shared_resources",
                "owner_id",
                "organizations",
                Restrict,
            ))
            .foreign_key(&mut fk(
                "shared_resources",
                "community_id",
                "places",
                Restrict,
            ))
            .foreign_key(&mut fk(
                "shared_resources",
                "courtyard_id",
                "places",
                Restrict,
            ))
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "shared_resources",
            "community",
            &["community_id", "id"],
        ))
        .await?;
        m.create_index(index("shared_resources", "owner", &["owner_id", "id"]))
            .await?;

        m.create_table(
            versioned(
                Table::create()
                    .table("talents")
                    .col(id())
                    .col(uuid("person_id"))
                    .col(uuid("community_id"))
                    .col(int("category"))
                    .col(text("description"))
                    .col(flag("available")),
            )
            .foreign_key(&mut fk("talents", "person_id", "persons", Cascade))
            .foreign_key(&mut fk("talents", "community_id", "places", Restrict))
            .to_owned(),
        )
        .await?;
        m.create_index(index("talents", "community", &["community_id", "id"]))
            .await?;
        m.create_index(index("talents", "person", &["person_id", "id"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "talents",
            "shared_resources",
            "agreement_places",
            "agreements",
            "memberships",
            "persons",
            "organizations",
            "places",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

/// Residents who sign in themselves: a normalised phone to find them by,
/// whether staff have verified them, their consent to the privacy notice
/// and their contact preferences.
struct ResidentIdentity;

impl MigrationName for ResidentIdentity {
    fn name(&self) -> &str {
        "m0002_organizations_resident_identity"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ResidentIdentity {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm::{ConnectionTrait, Statement};

        // SQLite adds one column per statement.
        for column in [
            text("phone_e164"),
            // Everyone registered so far was registered by staff: verified.
            ColumnDef::new("verification")
                .integer()
                .not_null()
                .default(1)
                .to_owned(),
            text("privacy_notice_version"),
            opt_time("consent_time"),
            opt_time("verify_time"),
            flag("forward_notices"),
            flag("daily_digest"),
        ] {
            m.alter_table(
                Table::alter()
                    .table("persons")
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        let db = m.get_connection();
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, phone FROM persons WHERE phone <> ''",
            ))
            .await?;
        for row in rows {
            let id: uuid::Uuid = row.try_get("", "id")?;
            let phone: String = row.try_get("", "phone")?;
            let e164 = cogov_kit::phone::canonical_or_empty(&phone);
            if e164.is_empty() {
                continue;
            }
            db.execute(
                Query::update()
                    .table("persons")
                    .value("phone_e164", e164)
                    .and_where(Expr::col("id").eq(id)),
            )
            .await?;
        }
        m.create_index(index("persons", "phone", &["phone_e164"]))
            .await?;
        // One self-registration per number, also when two race.
        m.create_index(
            index("persons", "self_registered_phone", &["phone_e164"])
                .unique()
                .and_where(Expr::col("privacy_notice_version").ne(""))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "persons",
            "verification",
            &["verification", "community_id", "id"],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for index in [
            "ix_persons_phone",
            "ix_persons_self_registered_phone",
            "ix_persons_verification",
        ] {
            m.drop_index(Index::drop().name(index).table("persons").to_owned())
                .await?;
        }
        for column in [
            "phone_e164",
            "verification",
            "privacy_notice_version",
            "consent_time",
            "verify_time",
            "forward_notices",
            "daily_digest",
        ] {
            m.alter_table(
                Table::alter()
                    .table("persons")
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// An erased self-registered person keeps their consent record but no
/// number: the one-registration-per-number index leaves such rows out, so
/// two erased registrations do not collide on the empty number.
struct ErasablePhones;

impl MigrationName for ErasablePhones {
    fn name(&self) -> &str {
        "m0003_organizations_erasable_phones"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ErasablePhones {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        ErasablePhones::recreate(m, true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        ErasablePhones::recreate(m, false).await
    }
}

impl ErasablePhones {
    /// The one-registration-per-number index again, leaving out rows
    /// without a number when `numbered_only`.
    async fn recreate(m: &SchemaManager<'_>, numbered_only: bool) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_persons_self_registered_phone")
                .table("persons")
                .to_owned(),
        )
        .await?;
        let mut index = index("persons", "self_registered_phone", &["phone_e164"]);
        index
            .unique()
            .and_where(Expr::col("privacy_notice_version").ne(""));
        if numbered_only {
            index.and_where(Expr::col("phone_e164").ne(""));
        }
        m.create_index(index.to_owned()).await
    }
}
