//! What lint knows about one statement, whichever reader understood it (the SQL parser or
//! the keyword classifier): the tables and columns it touches and how. Rules work on these
//! facts only, so they never depend on a parser's syntax tree.

use std::fmt;

/// A table as a statement names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// The schema (or database) when the name is qualified.
    pub schema: Option<String>,
    /// The table name, without quotes.
    pub name: String,
}

impl Relation {
    /// An unqualified table.
    pub fn named(name: impl Into<String>) -> Relation {
        Relation {
            schema: None,
            name: name.into(),
        }
    }

    /// The key tables are matched by within and across revisions (case-insensitive:
    /// PostgreSQL folds unquoted names, SQLite ignores case, MySQL on Linux does not, but a
    /// migration history that tells tables apart by case alone is rare enough).
    pub fn key(&self) -> String {
        self.name.to_lowercase()
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A column type as written, with its name made canonical (`character varying` →
/// `varchar`, `int4` → `integer`…) and its numeric arguments (`varchar(20)` → `[20]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnType {
    /// The canonical lower-case name.
    pub name: String,
    /// The type's numeric arguments (length, precision, scale).
    pub args: Vec<u64>,
    /// The type as written, for messages.
    pub written: String,
}

impl ColumnType {
    /// Reads a type from its text (`VARCHAR(20)`, `character varying`, `numeric(10, 2)`).
    pub fn parse(text: &str) -> ColumnType {
        let written = text.trim().to_owned();
        let lower = written.to_lowercase();
        let (head, args) = match lower.split_once('(') {
            Some((head, rest)) => {
                let inner = rest.split(')').next().unwrap_or_default();
                let args = inner
                    .split(',')
                    .filter_map(|a| a.trim().parse::<u64>().ok())
                    .collect();
                let tail = rest.split_once(')').map(|(_, t)| t).unwrap_or_default();
                (format!("{} {}", head.trim(), tail.trim()), args)
            }
            None => (lower.clone(), Vec::new()),
        };
        let words: Vec<&str> = head.split_whitespace().collect();
        let unsigned = words.contains(&"unsigned");
        let head = words
            .iter()
            .filter(|w| !matches!(**w, "unsigned" | "signed" | "zerofill"))
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let mut name = match head.as_str() {
            "character varying" | "varchar" | "varchar2" | "nvarchar" => "varchar",
            "character" | "char" | "bpchar" | "nchar" => "char",
            "text" | "string" => "text",
            "numeric" | "decimal" | "dec" => "numeric",
            "int" | "integer" | "int4" | "mediumint" => "integer",
            "bigint" | "int8" => "bigint",
            "smallint" | "int2" => "smallint",
            "tinyint" | "int1" => "tinyint",
            "real" | "float4" => "real",
            "double precision" | "float8" | "double" => "double",
            "boolean" | "bool" => "boolean",
            "timestamp with time zone" | "timestamptz" => "timestamptz",
            "timestamp without time zone" | "timestamp" => "timestamp",
            "time with time zone" | "timetz" => "timetz",
            "time without time zone" | "time" => "time",
            "bit varying" | "varbit" => "varbit",
            other => other,
        }
        .to_owned();
        // MySQL's integer display width (`int(11)`) changes nothing about the type.
        let args = if matches!(name.as_str(), "integer" | "bigint" | "smallint" | "tinyint") {
            Vec::new()
        } else {
            args
        };
        if unsigned {
            name.push_str(" unsigned");
        }
        ColumnType {
            name,
            args,
            written,
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

/// A column definition (`CREATE TABLE`, `ADD COLUMN`, MySQL `MODIFY`/`CHANGE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    /// The column name, without quotes.
    pub name: String,
    /// Its type.
    pub ty: ColumnType,
    /// `NOT NULL` (or `PRIMARY KEY`).
    pub not_null: bool,
    /// The `DEFAULT` expression as written.
    pub default: Option<String>,
    /// What fills existing rows without a `DEFAULT`: an identity, `serial`, a generated
    /// expression or MySQL's `AUTO_INCREMENT` (named for messages).
    pub generated: Option<String>,
    /// The table a column-level `REFERENCES` points at.
    pub references: Option<Relation>,
}

/// MySQL's `ALGORITHM=` and `LOCK=` clauses of one `ALTER TABLE`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnlineClauses {
    /// `ALGORITHM=` (upper case: `INSTANT`, `INPLACE`, `COPY`, `DEFAULT`).
    pub algorithm: Option<String>,
    /// `LOCK=` (upper case: `NONE`, `SHARED`, `EXCLUSIVE`, `DEFAULT`).
    pub lock: Option<String>,
}

impl OnlineClauses {
    /// Whether the statement tells the server to refuse rather than block writes: an
    /// in-place or instant algorithm with `LOCK=NONE` (or `ALGORITHM=INSTANT`, which never
    /// locks).
    pub fn refuses_to_block(&self) -> bool {
        let algorithm = self.algorithm.as_deref();
        algorithm == Some("INSTANT")
            || (algorithm == Some("INPLACE") && self.lock.as_deref() == Some("NONE"))
    }

    /// Whether the statement asks for a copy or a lock that blocks writes.
    pub fn asks_to_block(&self) -> bool {
        self.algorithm.as_deref() == Some("COPY")
            || matches!(self.lock.as_deref(), Some("SHARED" | "EXCLUSIVE"))
    }
}

/// One thing a statement does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// `CREATE TABLE` (also `CREATE TABLE ... AS`).
    CreateTable {
        /// The new table.
        table: Relation,
        /// Its columns (empty for `CREATE TABLE ... AS`).
        columns: Vec<ColumnSpec>,
        /// Tables its foreign keys reference.
        references: Vec<Relation>,
        /// Whether it declares a primary key.
        primary_key: bool,
        /// Whether it is filled from a query (`CREATE TABLE ... [AS] SELECT`).
        from_query: bool,
    },
    /// MySQL's `ENGINE=` on `CREATE TABLE` or `ALTER TABLE`.
    TableEngine {
        /// The table.
        table: Relation,
        /// The engine, as written.
        engine: String,
    },
    /// A lock that holds on the server that takes it, and on no other node of a cluster:
    /// MySQL's `LOCK TABLES`, `FLUSH TABLES t WITH READ LOCK`, `GET_LOCK()`.
    ExplicitLock {
        /// The statement or function, for messages (`LOCK TABLES`).
        how: String,
        /// Whether the session may then write only the tables it locked (`LOCK TABLES`) or
        /// none (`FLUSH TABLES ... WITH READ LOCK`), dbrev's own bookkeeping included.
        confines_session: bool,
    },
    /// A statement whose effect stays on the server that runs it: a cluster does not
    /// replicate it (`SET GLOBAL`, `FLUSH`, `XA`, replication turned off for the session).
    NodeLocal {
        /// What it is, for messages (`SET GLOBAL`).
        what: String,
    },
    /// `CREATE [UNIQUE] INDEX [CONCURRENTLY]`.
    CreateIndex {
        /// The indexed table.
        table: Relation,
        /// `CONCURRENTLY`.
        concurrently: bool,
    },
    /// `DROP INDEX [CONCURRENTLY]`.
    DropIndex {
        /// `CONCURRENTLY`.
        concurrently: bool,
    },
    /// PostgreSQL `REINDEX [CONCURRENTLY]`.
    Reindex {
        /// `CONCURRENTLY`.
        concurrently: bool,
    },
    /// `DROP TABLE` (one fact per table).
    DropTable {
        /// The dropped table.
        table: Relation,
    },
    /// `TRUNCATE` (one fact per table).
    Truncate {
        /// The emptied table.
        table: Relation,
    },
    /// One `ALTER TABLE` statement (its operations follow as their own facts).
    AlterTable {
        /// The altered table.
        table: Relation,
        /// Whether PostgreSQL takes an ACCESS EXCLUSIVE lock for it (every operation but
        /// the lighter ones: `VALIDATE CONSTRAINT`, `ADD FOREIGN KEY`, `SET (...)`).
        access_exclusive: bool,
        /// MySQL's `ALGORITHM=` / `LOCK=`.
        online: OnlineClauses,
    },
    /// `ADD COLUMN`.
    AddColumn {
        /// The table.
        table: Relation,
        /// The new column.
        column: ColumnSpec,
    },
    /// `DROP COLUMN` (one fact per column).
    DropColumn {
        /// The table.
        table: Relation,
        /// The dropped column.
        column: String,
    },
    /// `RENAME COLUMN a TO b`, or MySQL `CHANGE a b ...` with a new name.
    RenameColumn {
        /// The table.
        table: Relation,
        /// The old name.
        from: String,
        /// The new name.
        to: String,
        /// Whether it was MySQL's `CHANGE`, which restates the whole column.
        restates: bool,
    },
    /// A new type for a column: PostgreSQL `ALTER COLUMN ... TYPE`, MySQL `MODIFY` and
    /// `CHANGE` (which restate the column).
    SetType {
        /// The table.
        table: Relation,
        /// The column (its name after the statement).
        column: String,
        /// The column's new definition (type; for MySQL also nullability and default).
        to: ColumnSpec,
        /// PostgreSQL `USING` (a conversion expression: the table is rewritten).
        using: bool,
    },
    /// `ALTER COLUMN ... SET NOT NULL`.
    SetNotNull {
        /// The table.
        table: Relation,
        /// The column.
        column: String,
    },
    /// `ADD [CONSTRAINT name] FOREIGN KEY ... [NOT VALID]`, or a column-level `REFERENCES`
    /// in `ADD COLUMN`.
    AddForeignKey {
        /// The table holding the key.
        table: Relation,
        /// The constraint name, if written.
        name: Option<String>,
        /// `NOT VALID`.
        not_valid: bool,
    },
    /// `ADD [CONSTRAINT name] CHECK (...) [NOT VALID]`.
    AddCheck {
        /// The table.
        table: Relation,
        /// The constraint name, if written.
        name: Option<String>,
        /// `NOT VALID`.
        not_valid: bool,
        /// The column when the check is exactly `column IS NOT NULL`.
        not_null_of: Option<String>,
    },
    /// `VALIDATE CONSTRAINT name`.
    ValidateConstraint {
        /// The table.
        table: Relation,
        /// The constraint.
        name: String,
    },
    /// `DROP CONSTRAINT name`.
    DropConstraint {
        /// The table.
        table: Relation,
        /// The constraint.
        name: String,
    },
    /// `ADD [CONSTRAINT name] UNIQUE (...)` (not `USING INDEX`): builds an index.
    AddUnique {
        /// The table.
        table: Relation,
    },
    /// `ADD PRIMARY KEY` or `DROP PRIMARY KEY` on an existing table.
    ChangePrimaryKey {
        /// The table.
        table: Relation,
        /// `DROP PRIMARY KEY` without a new one in the same statement.
        drop_only: bool,
    },
    /// MySQL `CONVERT TO CHARACTER SET`.
    ConvertCharset {
        /// The table.
        table: Relation,
    },
    /// `ALTER TABLE a RENAME TO b`, `RENAME TABLE a TO b`.
    RenameTable {
        /// The old table.
        from: Relation,
        /// The new name.
        to: String,
    },
    /// `UPDATE`.
    Update {
        /// The updated table.
        table: Relation,
        /// Whether it has a `WHERE`.
        filtered: bool,
    },
    /// `DELETE`.
    Delete {
        /// The table rows are deleted from.
        table: Relation,
        /// Whether it has a `WHERE`.
        filtered: bool,
    },
    /// `INSERT` (with the table rows are read from, for `INSERT ... SELECT ... FROM t`).
    Insert {
        /// The target.
        table: Relation,
        /// The target columns, when listed.
        columns: Vec<String>,
        /// The single table of an `INSERT ... SELECT`.
        source: Option<Relation>,
        /// The select list of an `INSERT ... SELECT`, as written.
        selected: Option<String>,
    },
    /// `SET [LOCAL] lock_timeout`, or `set_config('lock_timeout', ...)`.
    SetLockTimeout {
        /// False for `0` or `DEFAULT` (no timeout).
        enabled: bool,
    },
    /// SQLite `PRAGMA name [= value]`.
    Pragma {
        /// The pragma's name, lower case.
        name: String,
        /// Its value, lower case, when one is set.
        value: Option<String>,
    },
    /// PostgreSQL `LOCK TABLE`.
    LockTable {
        /// The table.
        table: Relation,
        /// Whether the mode is ACCESS EXCLUSIVE (the default).
        access_exclusive: bool,
    },
}

impl Fact {
    /// The table the fact is about, if any.
    pub fn table(&self) -> Option<&Relation> {
        match self {
            Fact::CreateTable { table, .. }
            | Fact::CreateIndex { table, .. }
            | Fact::DropTable { table }
            | Fact::Truncate { table }
            | Fact::AlterTable { table, .. }
            | Fact::AddColumn { table, .. }
            | Fact::DropColumn { table, .. }
            | Fact::RenameColumn { table, .. }
            | Fact::SetType { table, .. }
            | Fact::SetNotNull { table, .. }
            | Fact::AddForeignKey { table, .. }
            | Fact::AddCheck { table, .. }
            | Fact::ValidateConstraint { table, .. }
            | Fact::DropConstraint { table, .. }
            | Fact::ChangePrimaryKey { table, .. }
            | Fact::AddUnique { table }
            | Fact::ConvertCharset { table }
            | Fact::Update { table, .. }
            | Fact::Delete { table, .. }
            | Fact::Insert { table, .. }
            | Fact::LockTable { table, .. }
            | Fact::TableEngine { table, .. } => Some(table),
            Fact::RenameTable { from, .. } => Some(from),
            Fact::DropIndex { .. }
            | Fact::Reindex { .. }
            | Fact::SetLockTimeout { .. }
            | Fact::Pragma { .. }
            | Fact::ExplicitLock { .. }
            | Fact::NodeLocal { .. } => None,
        }
    }
}

/// The broad kind of a statement (MySQL commits around every DDL statement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Schema changes: `CREATE`, `ALTER`, `DROP`, `RENAME`, `TRUNCATE`…
    Ddl,
    /// Row changes: `INSERT`, `UPDATE`, `DELETE`, `REPLACE`…
    Dml,
    /// Anything else: `SET`, `SELECT`, `PRAGMA`, transaction control.
    Other,
}

impl Kind {
    /// The kind of a statement from its first keyword.
    pub fn of(sql: &str) -> Kind {
        let first = sql
            .split(|c: char| !c.is_ascii_alphabetic())
            .find(|w| !w.is_empty())
            .unwrap_or_default()
            .to_ascii_uppercase();
        match first.as_str() {
            "CREATE" | "ALTER" | "DROP" | "RENAME" | "TRUNCATE" | "COMMENT" => Kind::Ddl,
            "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "MERGE" | "UPSERT" | "COPY" | "LOAD" => {
                Kind::Dml
            }
            _ => Kind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_types_are_canonical() {
        let t = ColumnType::parse("CHARACTER VARYING(200)");
        assert_eq!(
            (t.name.as_str(), t.args.as_slice()),
            ("varchar", &[200][..])
        );
        let t = ColumnType::parse("numeric(10, 2)");
        assert_eq!(
            (t.name.as_str(), t.args.as_slice()),
            ("numeric", &[10, 2][..])
        );
        assert_eq!(
            ColumnType::parse("TIMESTAMP WITH TIME ZONE").name,
            "timestamptz"
        );
        assert_eq!(ColumnType::parse("int4").name, "integer");
        let t = ColumnType::parse("int(11) unsigned");
        assert_eq!(
            (t.name.as_str(), t.args.as_slice()),
            ("integer unsigned", &[][..])
        );
    }

    #[test]
    fn kinds_from_the_first_keyword() {
        assert_eq!(Kind::of("insert into t values (1)"), Kind::Dml);
        assert_eq!(Kind::of("ALTER TABLE t ADD x int"), Kind::Ddl);
        assert_eq!(Kind::of("SET lock_timeout = 1"), Kind::Other);
    }
}
