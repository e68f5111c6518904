//! MySQL/MariaDB's catalog as the dump and the snapshot read it: one batched
//! `information_schema` query per kind (`queries/*.sql`), every row read into a plain
//! struct. The dump takes its lists from here (tables and views, their columns, routines,
//! triggers, events, foreign keys) and each object's DDL from `SHOW CREATE`; the snapshot
//! takes the definitions.

use crate::error::Result;
use crate::export::query_error;
use crate::export::session::{RawMysql, mysql_text};

/// One catalog row, read by column name (a column the server lacks reads as nothing).
pub(super) struct Row(mysql_async::Row);

impl Row {
    pub(super) fn opt(&self, column: &str) -> Option<String> {
        mysql_text(&self.0, column)
    }

    pub(super) fn text(&self, column: &str) -> String {
        self.opt(column).unwrap_or_default()
    }
}

/// The session catalog queries run on, counting them.
pub(super) struct Reader<'s> {
    pub session: &'s mut RawMysql,
    pub queries: usize,
}

impl Reader<'_> {
    fn read<T>(&mut self, what: &str, sql: &str, each: impl Fn(&Row) -> T) -> Result<Vec<T>> {
        self.queries += 1;
        let rows = self.session.rows(sql).map_err(|e| query_error(what, e))?;
        Ok(rows.into_iter().map(|r| each(&Row(r))).collect())
    }
}

/// A table or view.
pub(super) struct RelationRow {
    pub name: String,
    /// `BASE TABLE`, `VIEW`, `SYSTEM VERSIONED`.
    pub kind: String,
    pub engine: Option<String>,
    pub collation: Option<String>,
    pub options: Option<String>,
    pub comment: Option<String>,
}

impl RelationRow {
    /// Whether it is a view (else a table).
    pub(super) fn is_view(&self) -> bool {
        self.kind == "VIEW"
    }
}

/// Tables and views: read first, so the dump can lock the tables before anything else.
pub(super) fn relations(reader: &mut Reader<'_>) -> Result<Vec<RelationRow>> {
    reader.read("tables", include_str!("queries/relations.sql"), |r| {
        RelationRow {
            name: r.text("name"),
            kind: r.text("kind"),
            engine: r.opt("engine"),
            collation: r.opt("collation"),
            options: r.opt("options").filter(|o| !o.is_empty()),
            comment: r.opt("comment").filter(|c| !c.is_empty()),
        }
    })
}

/// A column of a table or view.
pub(super) struct ColumnRow {
    pub table: String,
    pub name: String,
    pub type_name: String,
    pub nullable: bool,
    pub default_value: Option<String>,
    pub extra: String,
    pub collation: Option<String>,
    pub generation: Option<String>,
    pub comment: Option<String>,
}

impl ColumnRow {
    /// A generated column (the dump does not copy its values).
    pub(super) fn is_generated(&self) -> bool {
        self.extra.to_ascii_uppercase().contains("GENERATED")
    }
}

/// One member of an index (the primary key is `PRIMARY`).
pub(super) struct IndexMemberRow {
    pub table: String,
    pub index: String,
    pub unique: bool,
    pub column: Option<String>,
    /// MySQL 8's functional member.
    pub expression: Option<String>,
    pub sub_part: Option<String>,
    pub order: Option<String>,
    pub index_type: String,
    pub comment: Option<String>,
}

/// A constraint: `PRIMARY KEY`, `UNIQUE`, `FOREIGN KEY` or `CHECK`.
pub(super) struct ConstraintRow {
    pub table: String,
    pub name: String,
    pub kind: String,
}

/// A check's clause; MariaDB names its table, MySQL 8 does not (its names are unique).
pub(super) struct CheckRow {
    pub table: Option<String>,
    pub name: String,
    pub clause: String,
}

/// One member of a foreign key.
pub(super) struct ReferenceRow {
    pub table: String,
    pub name: String,
    pub column: String,
    /// Another database's, when it is not ours.
    pub ref_schema: Option<String>,
    pub ref_table: String,
    pub ref_column: String,
    pub on_update: String,
    pub on_delete: String,
}

/// A view's definition as the server renders it.
pub(super) struct ViewRow {
    pub name: String,
    pub definition: String,
    pub check_option: String,
    pub security: String,
}

/// A procedure or function.
pub(super) struct RoutineRow {
    pub name: String,
    /// `PROCEDURE` or `FUNCTION`.
    pub kind: String,
    pub returns: Option<String>,
    pub body: String,
    pub deterministic: String,
    pub data_access: String,
    pub security: String,
    pub sql_mode: String,
    pub comment: Option<String>,
}

/// A routine's parameter.
pub(super) struct ParameterRow {
    pub routine: String,
    pub kind: String,
    pub mode: Option<String>,
    pub name: String,
    pub type_name: String,
}

/// A trigger.
pub(super) struct TriggerRow {
    pub name: String,
    pub table: String,
    pub timing: String,
    pub event: String,
    pub position: String,
    pub body: String,
    pub sql_mode: String,
}

/// A scheduled event.
pub(super) struct EventRow {
    pub name: String,
    pub body: String,
    /// `ONE TIME` or `RECURRING`.
    pub kind: String,
    pub execute_at: Option<String>,
    pub interval: Option<String>,
    pub ends: Option<String>,
    pub status: String,
    pub on_completion: String,
    pub comment: Option<String>,
    pub sql_mode: String,
    pub time_zone: String,
}

/// Everything besides the relations, in a fixed number of queries.
#[derive(Default)]
pub(super) struct Definitions {
    pub columns: Vec<ColumnRow>,
    pub indexes: Vec<IndexMemberRow>,
    pub constraints: Vec<ConstraintRow>,
    pub checks: Vec<CheckRow>,
    pub references: Vec<ReferenceRow>,
    pub views: Vec<ViewRow>,
    pub routines: Vec<RoutineRow>,
    pub parameters: Vec<ParameterRow>,
    pub triggers: Vec<TriggerRow>,
    pub events: Vec<EventRow>,
}

/// What the dump needs besides the relations: columns, foreign keys, routines, triggers
/// and events.
pub(super) fn for_dump(reader: &mut Reader<'_>) -> Result<Definitions> {
    Ok(Definitions {
        columns: columns(reader)?,
        references: references(reader)?,
        routines: routines(reader)?,
        triggers: triggers(reader)?,
        events: events(reader)?,
        ..Definitions::default()
    })
}

/// Every definition a snapshot compares.
pub(super) fn for_snapshot(reader: &mut Reader<'_>) -> Result<Definitions> {
    let mut d = for_dump(reader)?;
    d.indexes = reader.read("indexes", include_str!("queries/indexes.sql"), |r| {
        IndexMemberRow {
            table: r.text("TABLE_NAME"),
            index: r.text("INDEX_NAME"),
            unique: r.text("NON_UNIQUE") == "0",
            column: r.opt("COLUMN_NAME"),
            expression: r.opt("EXPRESSION"),
            sub_part: r.opt("SUB_PART"),
            order: r.opt("COLLATION"),
            index_type: r.text("INDEX_TYPE"),
            comment: r.opt("INDEX_COMMENT").filter(|c| !c.is_empty()),
        }
    })?;
    d.constraints = reader.read(
        "constraints",
        include_str!("queries/constraints.sql"),
        |r| ConstraintRow {
            table: r.text("tbl"),
            name: r.text("name"),
            kind: r.text("kind"),
        },
    )?;
    d.checks = reader.read("checks", include_str!("queries/checks.sql"), |r| CheckRow {
        table: r.opt("TABLE_NAME"),
        name: r.text("CONSTRAINT_NAME"),
        clause: r.text("CHECK_CLAUSE"),
    })?;
    d.views = reader.read("views", include_str!("queries/views.sql"), |r| ViewRow {
        name: r.text("name"),
        definition: r.text("definition"),
        check_option: r.text("check_option"),
        security: r.text("security"),
    })?;
    d.parameters = reader.read("parameters", include_str!("queries/parameters.sql"), |r| {
        ParameterRow {
            routine: r.text("routine"),
            kind: r.text("kind"),
            mode: r.opt("mode"),
            name: r.text("name"),
            type_name: r.text("type"),
        }
    })?;
    Ok(d)
}

fn columns(reader: &mut Reader<'_>) -> Result<Vec<ColumnRow>> {
    reader.read("columns", include_str!("queries/columns.sql"), |r| {
        ColumnRow {
            table: r.text("tbl"),
            name: r.text("name"),
            type_name: r.text("type"),
            nullable: r.text("nullable") == "YES",
            default_value: r.opt("default_value"),
            extra: r.text("extra"),
            collation: r.opt("collation"),
            generation: r.opt("generation").filter(|g| !g.is_empty()),
            comment: r.opt("comment").filter(|c| !c.is_empty()),
        }
    })
}

fn references(reader: &mut Reader<'_>) -> Result<Vec<ReferenceRow>> {
    reader.read(
        "foreign keys",
        include_str!("queries/references.sql"),
        |r| ReferenceRow {
            table: r.text("tbl"),
            name: r.text("name"),
            column: r.text("col"),
            ref_schema: r.opt("ref_schema"),
            ref_table: r.text("ref_table"),
            ref_column: r.text("ref_column"),
            on_update: r.text("on_update"),
            on_delete: r.text("on_delete"),
        },
    )
}

fn routines(reader: &mut Reader<'_>) -> Result<Vec<RoutineRow>> {
    reader.read("routines", include_str!("queries/routines.sql"), |r| {
        RoutineRow {
            name: r.text("name"),
            kind: r.text("kind"),
            returns: r.opt("returns"),
            body: r.text("body"),
            deterministic: r.text("is_deterministic"),
            data_access: r.text("data_access"),
            security: r.text("security"),
            sql_mode: r.text("sql_mode"),
            comment: r.opt("comment").filter(|c| !c.is_empty()),
        }
    })
}

fn triggers(reader: &mut Reader<'_>) -> Result<Vec<TriggerRow>> {
    reader.read("triggers", include_str!("queries/triggers.sql"), |r| {
        TriggerRow {
            name: r.text("name"),
            table: r.text("tbl"),
            timing: r.text("timing"),
            event: r.text("event"),
            position: r.text("position"),
            body: r.text("body"),
            sql_mode: r.text("sql_mode"),
        }
    })
}

fn events(reader: &mut Reader<'_>) -> Result<Vec<EventRow>> {
    reader.read("events", include_str!("queries/events.sql"), |r| {
        let interval = r
            .opt("interval_value")
            .map(|v| format!("{v} {}", r.text("interval_field")));
        EventRow {
            name: r.text("name"),
            body: r.text("body"),
            kind: r.text("kind"),
            execute_at: r.opt("execute_at"),
            interval,
            ends: r.opt("ends"),
            status: r.text("status"),
            on_completion: r.text("on_completion"),
            comment: r.opt("comment").filter(|c| !c.is_empty()),
            sql_mode: r.text("sql_mode"),
            time_zone: r.text("time_zone"),
        }
    })
}
