//! PostgreSQL's catalog as the dump reads it: one batched query per kind of object (the
//! queries live in `queries/`, one file each), every row read into a plain struct. The
//! queries format what only the server can (`pg_get_*def`, `format_type`, quoting); the
//! statements are put together in [`super::items`].

use crate::error::Result;
use crate::export::query_error;
use crate::export::session::RawPostgres;

/// The catalog that names an object, as `pg_depend` and `pg_description` do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Cat {
    Class,
    Type,
    Proc,
    Namespace,
    Constraint,
    Rewrite,
    Trigger,
    Extension,
    Statistics,
    Policy,
    AttrDef,
    /// A catalog the dump has no objects in.
    Other,
}

impl Cat {
    fn parse(name: &str) -> Cat {
        match name {
            "pg_class" => Cat::Class,
            "pg_type" => Cat::Type,
            "pg_proc" => Cat::Proc,
            "pg_namespace" => Cat::Namespace,
            "pg_constraint" => Cat::Constraint,
            "pg_rewrite" => Cat::Rewrite,
            "pg_trigger" => Cat::Trigger,
            "pg_extension" => Cat::Extension,
            "pg_statistic_ext" => Cat::Statistics,
            "pg_policy" => Cat::Policy,
            "pg_attrdef" => Cat::AttrDef,
            _ => Cat::Other,
        }
    }
}

/// An object's identity in the catalogs.
pub(super) type Key = (Cat, u32);

/// One row of a catalog query, every value as text.
struct Row(tokio_postgres::Row);

impl Row {
    fn opt(&self, column: &str) -> Option<String> {
        self.0.try_get::<_, Option<String>>(column).ok().flatten()
    }

    fn text(&self, column: &str) -> String {
        self.opt(column).unwrap_or_default()
    }

    fn flag(&self, column: &str) -> bool {
        self.opt(column).is_some_and(|v| v == "true")
    }

    fn oid(&self, column: &str) -> u32 {
        self.oid_opt(column).unwrap_or(0)
    }

    fn oid_opt(&self, column: &str) -> Option<u32> {
        self.opt(column).and_then(|v| v.parse().ok())
    }

    /// A comma-separated list of oids.
    fn oids(&self, column: &str) -> Vec<u32> {
        self.text(column)
            .split(',')
            .filter_map(|v| v.parse().ok())
            .collect()
    }
}

/// A kind of catalog row and the query that reads all of them.
trait FromRow: Sized {
    /// What the rows are, for error messages.
    const WHAT: &'static str;
    /// The query.
    const SQL: &'static str;
    fn from_row(row: &Row) -> Self;
}

/// The catalog session, counting the queries it runs.
struct Reader<'s> {
    session: &'s mut RawPostgres,
    queries: usize,
}

impl Reader<'_> {
    fn read<T: FromRow>(&mut self) -> Result<Vec<T>> {
        self.queries += 1;
        let rows = self
            .session
            .prepared_rows(T::SQL)
            .map_err(|e| query_error(T::WHAT, e))?;
        Ok(rows.into_iter().map(|r| T::from_row(&Row(r))).collect())
    }
}

/// A schema.
pub(super) struct SchemaRow {
    pub oid: u32,
    /// In the session's current schema (a schema tenant's own).
    pub in_current_schema: bool,
    pub name: String,
}

impl FromRow for SchemaRow {
    const WHAT: &'static str = "schemas";
    const SQL: &'static str = include_str!("queries/schemas.sql");
    fn from_row(r: &Row) -> Self {
        SchemaRow {
            oid: r.oid("oid"),
            in_current_schema: r.flag("in_current_schema"),
            name: r.text("name"),
        }
    }
}

/// An installed extension.
pub(super) struct ExtensionRow {
    pub oid: u32,
    pub name: String,
    pub schema: String,
}

impl FromRow for ExtensionRow {
    const WHAT: &'static str = "extensions";
    const SQL: &'static str = include_str!("queries/extensions.sql");
    fn from_row(r: &Row) -> Self {
        ExtensionRow {
            oid: r.oid("oid"),
            name: r.text("name"),
            schema: r.text("schema"),
        }
    }
}

/// An enum, composite, domain or range type.
pub(super) struct TypeRow {
    pub oid: u32,
    /// In the session's current schema (a schema tenant's own).
    pub in_current_schema: bool,
    pub name: String,
    /// `e`, `c`, `d` or `r`.
    pub kind: String,
    /// Its array type, multirange and the multirange's array.
    pub alias_types: Vec<u32>,
    /// A composite type's relation.
    pub alias_class: Option<u32>,
    pub labels: Option<String>,
    pub attributes: Option<String>,
    pub base: Option<String>,
    pub collation: Option<String>,
    pub default_value: Option<String>,
    pub not_null: bool,
    pub subtype: Option<String>,
    pub opclass: Option<String>,
    pub range_collation: Option<String>,
    pub canonical: Option<String>,
    pub subdiff: Option<String>,
    pub multirange: Option<String>,
}

impl FromRow for TypeRow {
    const WHAT: &'static str = "types";
    const SQL: &'static str = include_str!("queries/types.sql");
    fn from_row(r: &Row) -> Self {
        TypeRow {
            oid: r.oid("oid"),
            in_current_schema: r.flag("in_current_schema"),
            name: r.text("name"),
            kind: r.text("kind"),
            alias_types: r.oids("alias_types"),
            alias_class: r.oid_opt("alias_class"),
            labels: r.opt("labels"),
            attributes: r.opt("attributes"),
            base: r.opt("base"),
            collation: r.opt("collation"),
            default_value: r.opt("default_value"),
            not_null: r.flag("not_null"),
            subtype: r.opt("subtype"),
            opclass: r.opt("opclass"),
            range_collation: r.opt("range_collation"),
            canonical: r.opt("canonical"),
            subdiff: r.opt("subdiff"),
            multirange: r.opt("multirange"),
        }
    }
}

/// A function or procedure.
pub(super) struct FunctionRow {
    pub oid: u32,
    /// In the session's current schema (a schema tenant's own).
    pub in_current_schema: bool,
    /// `name(argument types)`, for DROP.
    pub name: String,
    /// `f`, `p` or `w`.
    pub kind: String,
    pub ddl: String,
}

impl FromRow for FunctionRow {
    const WHAT: &'static str = "functions";
    const SQL: &'static str = include_str!("queries/functions.sql");
    fn from_row(r: &Row) -> Self {
        FunctionRow {
            oid: r.oid("oid"),
            in_current_schema: r.flag("in_current_schema"),
            name: r.text("name"),
            kind: r.text("kind"),
            ddl: r.text("ddl"),
        }
    }
}

/// An aggregate.
pub(super) struct AggregateRow {
    pub oid: u32,
    /// In the session's current schema (a schema tenant's own).
    pub in_current_schema: bool,
    /// `schema.name`.
    pub name: String,
    /// The arguments CREATE AGGREGATE takes (with names; `*` for none).
    pub arguments: String,
    /// The arguments DROP and COMMENT take.
    pub identity: String,
    pub options: String,
}

impl FromRow for AggregateRow {
    const WHAT: &'static str = "aggregates";
    const SQL: &'static str = include_str!("queries/aggregates.sql");
    fn from_row(r: &Row) -> Self {
        AggregateRow {
            oid: r.oid("oid"),
            in_current_schema: r.flag("in_current_schema"),
            name: r.text("name"),
            arguments: r.text("arguments"),
            identity: r.text("identity"),
            options: r.text("options"),
        }
    }
}

/// A sequence.
pub(super) struct SequenceRow {
    pub oid: u32,
    /// In the session's current schema (a schema tenant's own).
    pub in_current_schema: bool,
    pub name: String,
    pub filter_name: String,
    pub type_name: String,
    /// `INCREMENT BY … CACHE …`.
    pub options: String,
    /// The table that owns it (`OWNED BY` or an identity column).
    pub owner: Option<u32>,
    pub owner_column: Option<u32>,
    /// `a` (serial, `OWNED BY`) or `i` (identity).
    pub owner_kind: Option<String>,
    /// `table.column` of an `OWNED BY`.
    pub owned_by: Option<String>,
    pub setval: String,
    /// Tables whose column defaults use it.
    pub used_by: Vec<u32>,
}

impl FromRow for SequenceRow {
    const WHAT: &'static str = "sequences";
    const SQL: &'static str = include_str!("queries/sequences.sql");
    fn from_row(r: &Row) -> Self {
        SequenceRow {
            oid: r.oid("oid"),
            in_current_schema: r.flag("in_current_schema"),
            name: r.text("name"),
            filter_name: r.text("filter_name"),
            type_name: r.text("type"),
            options: r.text("options"),
            owner: r.oid_opt("owner"),
            owner_column: r.oid_opt("owner_column"),
            owner_kind: r.opt("owner_kind"),
            owned_by: r.opt("owned_by"),
            setval: r.text("setval"),
            used_by: r.oids("used_by"),
        }
    }
}

/// A table, partitioned table or partition.
pub(super) struct TableRow {
    pub oid: u32,
    /// In the session's current schema (a schema tenant's own).
    pub in_current_schema: bool,
    pub name: String,
    pub filter_name: String,
    /// `r` or `p`.
    pub kind: String,
    /// `u`: unlogged.
    pub persistence: String,
    pub is_partition: bool,
    /// A partition's `FOR VALUES …` or `DEFAULT`.
    pub bound: Option<String>,
    /// A partition's partitioned table.
    pub parent: Option<String>,
    pub parent_oid: Option<u32>,
    /// A partition's topmost partitioned table.
    pub root: Option<u32>,
    pub partition_key: Option<String>,
    pub inherits: Option<String>,
    pub options: Option<String>,
    /// Its row type and that type's array.
    pub alias_types: Vec<u32>,
    pub row_security: bool,
    pub force_row_security: bool,
    /// Its size in pages as last counted (`relpages`).
    pub pages: u64,
}

impl FromRow for TableRow {
    const WHAT: &'static str = "tables";
    const SQL: &'static str = include_str!("queries/tables.sql");
    fn from_row(r: &Row) -> Self {
        TableRow {
            oid: r.oid("oid"),
            in_current_schema: r.flag("in_current_schema"),
            name: r.text("name"),
            filter_name: r.text("filter_name"),
            kind: r.text("kind"),
            persistence: r.text("persistence"),
            is_partition: r.flag("is_partition"),
            bound: r.opt("bound"),
            parent: r.opt("parent"),
            parent_oid: r.oid_opt("parent_oid"),
            root: r.oid_opt("root"),
            partition_key: r.opt("partition_key"),
            inherits: r.opt("inherits"),
            options: r.opt("options").filter(|o| !o.is_empty()),
            alias_types: r.oids("alias_types"),
            row_security: r.flag("row_security"),
            force_row_security: r.flag("force_row_security"),
            pages: r.opt("pages").and_then(|v| v.parse().ok()).unwrap_or(0),
        }
    }
}

/// A column of a table.
pub(super) struct ColumnRow {
    pub relation: u32,
    pub number: u32,
    /// Quoted.
    pub name: String,
    pub type_name: String,
    pub collation: Option<String>,
    pub not_null: bool,
    /// Declared in this table rather than only inherited.
    pub local: bool,
    /// `a` (ALWAYS), `d` (BY DEFAULT) or empty.
    pub identity: String,
    /// `s` (stored) or empty.
    pub generated: String,
    pub default_oid: Option<u32>,
    pub default_value: Option<String>,
    /// The default calls a function of the user's.
    pub calls_function: bool,
}

impl FromRow for ColumnRow {
    const WHAT: &'static str = "columns";
    const SQL: &'static str = include_str!("queries/columns.sql");
    fn from_row(r: &Row) -> Self {
        ColumnRow {
            relation: r.oid("relation"),
            number: r.oid("number"),
            name: r.text("name"),
            type_name: r.text("type"),
            collation: r.opt("collation"),
            not_null: r.flag("not_null"),
            local: r.flag("local"),
            identity: r.text("identity"),
            generated: r.text("generated"),
            default_oid: r.oid_opt("default_oid"),
            default_value: r.opt("default_value"),
            calls_function: r.flag("calls_function"),
        }
    }
}

/// A constraint of a table or a domain.
pub(super) struct ConstraintRow {
    pub oid: u32,
    /// Quoted.
    pub name: String,
    /// `p`, `u`, `c`, `x` or `f`.
    pub kind: String,
    pub relation: Option<u32>,
    pub domain: Option<u32>,
    pub definition: String,
    pub local: bool,
    pub validated: bool,
    /// A partition's copy of its parent's constraint.
    pub cloned: bool,
    pub deferrable: bool,
    pub referenced: Option<u32>,
    pub index: Option<u32>,
    pub index_name: Option<String>,
    /// The index's name, quoted and unqualified (what `CLUSTER ON` takes).
    pub index_bare_name: Option<String>,
    /// The table is clustered on the constraint's index.
    pub clustered: bool,
    /// The partitioned index a partition's key index is attached to.
    pub parent_index: Option<String>,
    pub calls_function: bool,
}

impl FromRow for ConstraintRow {
    const WHAT: &'static str = "constraints";
    const SQL: &'static str = include_str!("queries/constraints.sql");
    fn from_row(r: &Row) -> Self {
        ConstraintRow {
            oid: r.oid("oid"),
            name: r.text("name"),
            kind: r.text("kind"),
            relation: r.oid_opt("relation"),
            domain: r.oid_opt("domain"),
            definition: r.text("definition"),
            local: r.flag("local"),
            validated: r.flag("validated"),
            cloned: r.flag("cloned"),
            deferrable: r.flag("deferrable"),
            referenced: r.oid_opt("referenced"),
            index: r.oid_opt("index"),
            index_name: r.opt("index_name"),
            index_bare_name: r.opt("index_bare_name"),
            clustered: r.flag("clustered"),
            parent_index: r.opt("parent_index"),
            calls_function: r.flag("calls_function"),
        }
    }
}

/// An index no constraint owns.
pub(super) struct IndexRow {
    pub oid: u32,
    pub name: String,
    /// Quoted, unqualified (what `CLUSTER ON` takes).
    pub bare_name: String,
    pub relation: u32,
    pub relation_name: String,
    pub definition: String,
    pub parent_index: Option<String>,
    pub clustered: bool,
}

impl FromRow for IndexRow {
    const WHAT: &'static str = "indexes";
    const SQL: &'static str = include_str!("queries/indexes.sql");
    fn from_row(r: &Row) -> Self {
        IndexRow {
            oid: r.oid("oid"),
            name: r.text("name"),
            bare_name: r.text("bare_name"),
            relation: r.oid("relation"),
            relation_name: r.text("relation_name"),
            definition: r.text("definition"),
            parent_index: r.opt("parent_index"),
            clustered: r.flag("clustered"),
        }
    }
}

/// A view or materialized view.
pub(super) struct ViewRow {
    pub oid: u32,
    /// In the session's current schema (a schema tenant's own).
    pub in_current_schema: bool,
    pub name: String,
    pub filter_name: String,
    /// `v` or `m`.
    pub kind: String,
    pub query: String,
    pub options: Option<String>,
    pub populated: bool,
    pub alias_types: Vec<u32>,
    /// Its `_RETURN` rule.
    pub alias_rules: Vec<u32>,
}

impl FromRow for ViewRow {
    const WHAT: &'static str = "views";
    const SQL: &'static str = include_str!("queries/views.sql");
    fn from_row(r: &Row) -> Self {
        ViewRow {
            oid: r.oid("oid"),
            in_current_schema: r.flag("in_current_schema"),
            name: r.text("name"),
            filter_name: r.text("filter_name"),
            kind: r.text("kind"),
            query: r.text("query"),
            options: r.opt("options").filter(|o| !o.is_empty()),
            populated: r.flag("populated"),
            alias_types: r.oids("alias_types"),
            alias_rules: r.oids("alias_rules"),
        }
    }
}

/// A trigger, rule, statistics object or policy: a definition on one relation.
pub(super) struct RelationObjectRow {
    pub oid: u32,
    pub name: String,
    pub relation: u32,
    pub relation_name: String,
    pub definition: String,
    /// Triggers: `O` (enabled), `D` (disabled), `R` (replica), `A` (always).
    pub enabled: String,
}

impl RelationObjectRow {
    fn from_row(r: &Row) -> Self {
        RelationObjectRow {
            oid: r.oid("oid"),
            name: r.text("name"),
            relation: r.oid("relation"),
            relation_name: r.text("relation_name"),
            definition: r.text("definition"),
            enabled: r.text("enabled"),
        }
    }
}

/// Triggers.
pub(super) struct TriggerRow(pub RelationObjectRow);
/// Rules.
pub(super) struct RuleRow(pub RelationObjectRow);
/// Extended statistics.
pub(super) struct StatisticsRow(pub RelationObjectRow);
/// Row-level security policies.
pub(super) struct PolicyRow(pub RelationObjectRow);

impl FromRow for TriggerRow {
    const WHAT: &'static str = "triggers";
    const SQL: &'static str = include_str!("queries/triggers.sql");
    fn from_row(r: &Row) -> Self {
        TriggerRow(RelationObjectRow::from_row(r))
    }
}

impl FromRow for RuleRow {
    const WHAT: &'static str = "rules";
    const SQL: &'static str = include_str!("queries/rules.sql");
    fn from_row(r: &Row) -> Self {
        RuleRow(RelationObjectRow::from_row(r))
    }
}

impl FromRow for StatisticsRow {
    const WHAT: &'static str = "statistics";
    const SQL: &'static str = include_str!("queries/statistics.sql");
    fn from_row(r: &Row) -> Self {
        StatisticsRow(RelationObjectRow::from_row(r))
    }
}

impl FromRow for PolicyRow {
    const WHAT: &'static str = "policies";
    const SQL: &'static str = include_str!("queries/policies.sql");
    fn from_row(r: &Row) -> Self {
        PolicyRow(RelationObjectRow::from_row(r))
    }
}

/// A comment, as the statement that sets it, by the object it is on.
pub(super) struct CommentRow {
    pub on: Key,
    pub statement: String,
}

impl FromRow for CommentRow {
    const WHAT: &'static str = "comments";
    const SQL: &'static str = include_str!("queries/comments.sql");
    fn from_row(r: &Row) -> Self {
        CommentRow {
            on: (Cat::parse(&r.text("catalog")), r.oid("oid")),
            statement: r.text("statement"),
        }
    }
}

/// One `pg_depend` row: `object` depends on `referenced`.
pub(super) struct DependRow {
    pub object: Key,
    pub referenced: Key,
    /// `n`, `a`, `i`, `P` or `S`.
    pub kind: String,
}

impl FromRow for DependRow {
    const WHAT: &'static str = "dependencies";
    const SQL: &'static str = include_str!("queries/depend.sql");
    fn from_row(r: &Row) -> Self {
        DependRow {
            object: (Cat::parse(&r.text("catalog")), r.oid("oid")),
            referenced: (Cat::parse(&r.text("ref_catalog")), r.oid("ref_oid")),
            kind: r.text("kind"),
        }
    }
}

/// An object this dump does not write (pg_dump would), named for a warning.
pub(super) struct NotCarriedRow {
    pub what: String,
}

impl FromRow for NotCarriedRow {
    const WHAT: &'static str = "objects this dump does not carry";
    const SQL: &'static str = include_str!("queries/not_carried.sql");
    fn from_row(r: &Row) -> Self {
        NotCarriedRow {
            what: r.text("what"),
        }
    }
}

/// Everything the dump reads from the catalog, in a fixed number of queries.
#[derive(Default)]
pub(super) struct Catalog {
    pub schemas: Vec<SchemaRow>,
    pub extensions: Vec<ExtensionRow>,
    pub types: Vec<TypeRow>,
    pub functions: Vec<FunctionRow>,
    pub aggregates: Vec<AggregateRow>,
    pub sequences: Vec<SequenceRow>,
    pub tables: Vec<TableRow>,
    pub columns: Vec<ColumnRow>,
    pub constraints: Vec<ConstraintRow>,
    pub indexes: Vec<IndexRow>,
    pub views: Vec<ViewRow>,
    pub triggers: Vec<TriggerRow>,
    pub rules: Vec<RuleRow>,
    pub statistics: Vec<StatisticsRow>,
    pub policies: Vec<PolicyRow>,
    pub comments: Vec<CommentRow>,
    pub depends: Vec<DependRow>,
    pub not_carried: Vec<NotCarriedRow>,
}

impl Catalog {
    /// Reads every kind, one query each, in the session's snapshot; the tables first, then
    /// locked (ACCESS SHARE, as pg_dump does) so that no DDL changes them until the dump
    /// is done.
    pub(super) fn read(session: &mut RawPostgres) -> Result<Catalog> {
        let mut reader = Reader {
            session,
            queries: 0,
        };
        let tables: Vec<TableRow> = reader.read()?;
        if !tables.is_empty() {
            let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
            reader
                .session
                .batch_execute(&format!(
                    "LOCK TABLE {} IN ACCESS SHARE MODE",
                    names.join(", ")
                ))
                .map_err(|e| query_error("locking the tables", e))?;
        }
        let mut catalog = Catalog::read_definitions(&mut reader, tables)?;
        catalog.depends = reader.read()?;
        catalog.not_carried = reader.read()?;
        Ok(catalog)
    }

    /// What a snapshot compares: the definitions of every object, without the dump's
    /// dependencies and warnings, and without locking anything; also returns how many
    /// queries it took.
    pub(super) fn read_for_snapshot(session: &mut RawPostgres) -> Result<(Catalog, usize)> {
        let mut reader = Reader {
            session,
            queries: 0,
        };
        let tables = reader.read()?;
        let catalog = Catalog::read_definitions(&mut reader, tables)?;
        Ok((catalog, reader.queries))
    }

    fn read_definitions(reader: &mut Reader<'_>, tables: Vec<TableRow>) -> Result<Catalog> {
        Ok(Catalog {
            schemas: reader.read()?,
            extensions: reader.read()?,
            types: reader.read()?,
            functions: reader.read()?,
            aggregates: reader.read()?,
            sequences: reader.read()?,
            tables,
            columns: reader.read()?,
            constraints: reader.read()?,
            indexes: reader.read()?,
            views: reader.read()?,
            triggers: reader.read()?,
            rules: reader.read()?,
            statistics: reader.read()?,
            policies: reader.read()?,
            comments: reader.read()?,
            depends: Vec::new(),
            not_carried: Vec::new(),
        })
    }
}
