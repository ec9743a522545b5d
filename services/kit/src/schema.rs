//! Column and index helpers for the services' migrations, so every table
//! spells ids, times and revisions the same way on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

/// `id`: a UUID primary key.
pub fn id() -> ColumnDef {
    ColumnDef::new("id")
        .uuid()
        .not_null()
        .primary_key()
        .to_owned()
}

/// A required UUID.
pub fn uuid(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).uuid().not_null().to_owned()
}

/// An optional UUID.
pub fn opt_uuid(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).uuid().null().to_owned()
}

/// Text, empty by default.
pub fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .text()
        .not_null()
        .default("")
        .to_owned()
}

/// An integer, 0 by default (enum numbers, counts).
pub fn int(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .integer()
        .not_null()
        .default(0)
        .to_owned()
}

/// A boolean, false by default.
pub fn flag(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .boolean()
        .not_null()
        .default(false)
        .to_owned()
}

/// A required instant.
pub fn time(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

/// An optional instant.
pub fn opt_time(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

/// An optional double (coordinates).
pub fn opt_double(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).double().null().to_owned()
}

/// `revision`, `create_time`, `update_time`: on every mutable table.
pub fn versioned(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table
        .col(
            ColumnDef::new("revision")
                .big_integer()
                .not_null()
                .default(1),
        )
        .col(time("create_time"))
        .col(time("update_time"))
}

/// A foreign key from `from_table.column` to `to_table.id`.
pub fn fk(
    from_table: &'static str,
    column: &'static str,
    to_table: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{column}"))
        .from(from_table, column)
        .to(to_table, "id")
        .on_delete(on_delete)
        .to_owned()
}

/// An index named `ix_{table}_{name}`.
pub fn index(
    table: &'static str,
    name: &'static str,
    columns: &[&'static str],
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(format!("ix_{table}_{name}")).table(table);
    for c in columns {
        index.col(*c);
    }
    index.to_owned()
}
