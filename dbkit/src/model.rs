//! The neutral schema model that both sides of a comparison are read into: the live
//! database (`inspect`) and diesel's `schema.rs` (`rust_model`). Plain data; no SQL text
//! except each column's native type, kept so a change can be reversed exactly.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::sqltype::SqlType;

/// A table's name, qualified by its schema when it is not the default one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableName {
    /// The schema (PostgreSQL), `None` for the default schema.
    pub schema: Option<String>,
    /// The table's SQL name.
    pub name: String,
}

impl TableName {
    /// A table in the default schema.
    pub fn new(name: impl Into<String>) -> Self {
        TableName {
            schema: None,
            name: name.into(),
        }
    }
}

impl TableName {
    /// Reads `schema.name` or `name` (a type's SQL name as `sql_types` writes it), with
    /// the `default` schema read as no schema.
    pub fn parse_qualified(text: &str, default: Option<&str>) -> Self {
        match text.split_once('.') {
            Some((schema, name)) if Some(schema) != default => TableName {
                schema: Some(schema.to_owned()),
                name: name.to_owned(),
            },
            Some((_, name)) => TableName::new(name),
            None => TableName::new(text),
        }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A whole schema: tables by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    /// The tables, in name order.
    pub tables: BTreeMap<TableName, Table>,
    /// Relations that are not compared as tables (database side only): views,
    /// materialized views, partitions of a partitioned table. A `table!` may stand for one
    /// (print-schema writes partitions as tables) and is then neither created nor compared
    /// column by column; none of them is ever a table to drop.
    pub relations: BTreeMap<TableName, RelationKind>,
    /// PostgreSQL enum types by name (qualified like tables) and their labels. Database
    /// side: every enum type, labels in order. Model side: every type a `sql_types` struct
    /// declares with `postgres_type`, with the labels of the Rust enum mapped to it (`None`:
    /// no Rust enum found, so the labels are unknown and the type may not be an enum).
    pub enums: BTreeMap<TableName, Option<Vec<String>>>,
    /// Database side: the other user-defined types (domains, ranges, extension types), so
    /// a model type the database already has is never created.
    pub types: BTreeSet<TableName>,
}

/// One table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Its name.
    pub name: TableName,
    /// Columns in order.
    pub columns: Vec<Column>,
    /// Primary key columns, in key order (empty: none).
    pub primary_key: Vec<String>,
    /// The primary key constraint's name, when the database has one.
    pub primary_key_name: Option<String>,
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// Unique constraints and indexes (database side only; schema.rs has none).
    pub indexes: Vec<Index>,
    /// The name print-schema gives the implicit row key of a table that declares no
    /// primary key (SQLite's `rowid`, or `oid` / `_rowid_` when a column takes that name).
    pub implicit_key: Option<String>,
}

impl Table {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its SQL name.
    pub name: String,
    /// Its type.
    pub ty: SqlType,
    /// Whether it accepts NULL.
    pub nullable: bool,
    /// The default expression (database side only).
    pub default: Option<String>,
    /// `auto_increment`, `identity` or `generated` (database side only).
    pub extra: Option<String>,
    /// Whether the model may call the column either nullable or not (database side: a
    /// SQLite primary key column declared without NOT NULL, which print-schema writes as
    /// `Nullable<..>` and people write without).
    pub nullability_either: bool,
}

/// A foreign key. From schema.rs (`joinable!`) only the column and the referenced table
/// are known; the referenced columns are that table's primary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// The constraint name, when the database has one.
    pub name: Option<String>,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub ref_table: TableName,
    /// The referenced columns (empty: the referenced table's primary key).
    pub ref_columns: Vec<String>,
    /// `ON DELETE` action, when not the default.
    pub on_delete: Option<String>,
    /// `ON UPDATE` action, when not the default.
    pub on_update: Option<String>,
}

/// What a [`Schema::relations`] entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    /// `CREATE VIEW`.
    View,
    /// PostgreSQL's `CREATE MATERIALIZED VIEW`.
    MaterializedView,
    /// A PostgreSQL partition (`CREATE TABLE .. PARTITION OF`): its rows are its parent's.
    Partition,
}

/// A unique constraint or an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Its columns in order.
    pub columns: Vec<String>,
    /// Whether it is unique.
    pub unique: bool,
    /// Whether it is a `UNIQUE` constraint rather than a plain index.
    pub constraint: bool,
}
