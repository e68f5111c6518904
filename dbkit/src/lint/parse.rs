//! Reading revision files into facts: dbkit's statement splitter gives each statement and
//! its line, `sqlparser` (with the backend's dialect) reads it, and the keyword classifier
//! takes over for what the parser cannot read. A statement neither understands is kept
//! with the parser's reason, so lint reports it instead of skipping it.

use sqlparser::ast::{
    self, AlterColumnOperation, AlterTableOperation, ColumnOption, Expr, ObjectName, ObjectType,
    SetExpr, Statement as Ast, TableConstraint, TableFactor,
};
use sqlparser::dialect::Dialect as ParserDialect;
use sqlparser::parser::Parser;

use super::facts::{ColumnSpec, ColumnType, Fact, Kind, OnlineClauses, Relation};
use super::rules::{self, mysql, sqlite};
use super::tokens::{self, lock_timeout_enabled};
use crate::backend::Backend;
use crate::statements::{SplitError, StatementKind, split_str};

/// One statement of a revision file and what it does.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The first line of the statement (1-based).
    pub line: usize,
    /// The line its text ends on.
    pub end_line: usize,
    /// The text.
    pub sql: String,
    /// What it does.
    pub facts: Vec<Fact>,
    /// DDL, DML or other.
    pub kind: Kind,
    /// Why neither the parser nor the keyword classifier could read all of it.
    pub unparsed: Option<String>,
}

/// Splits and reads a whole file.
pub fn parse_file(text: &str, backend: Backend) -> Result<Vec<Parsed>, SplitError> {
    let dialect = rules::grammar(backend);
    let statements = split_str(text, backend)?;
    Ok(statements
        .into_iter()
        .filter(|s| s.kind == StatementKind::Sql)
        .map(|s| {
            let end_line = s.line + s.sql.matches('\n').count();
            let (mut facts, unparsed) = read_statement(&*dialect, &s.sql);
            facts.extend(rules::statement_facts(backend, &s.sql));
            Parsed {
                line: s.line,
                end_line,
                kind: Kind::of(&s.sql),
                sql: s.sql,
                facts,
                unparsed,
            }
        })
        .collect())
}

/// Facts of one statement, and why it was not fully understood (if it was not).
fn read_statement(dialect: &dyn ParserDialect, sql: &str) -> (Vec<Fact>, Option<String>) {
    match Parser::parse_sql(dialect, sql) {
        Ok(statements) => {
            let mut facts = Vec::new();
            for statement in &statements {
                facts_of(statement, &mut facts);
            }
            (facts, None)
        }
        Err(error) => {
            let classified = tokens::classify(sql);
            let reason = (!classified.understood).then(|| {
                let text = error.to_string();
                let text = text.trim_start_matches("sql parser error: ");
                // Positions are within the statement, not the file: leave them out.
                text.split(" at Line: ").next().unwrap_or(text).to_owned()
            });
            (classified.facts, reason)
        }
    }
}

/// A relation from a parsed name: the last part is the table, the one before the schema.
fn relation(name: &ObjectName) -> Relation {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| match p.as_ident() {
            Some(ident) => ident.value.clone(),
            None => p.to_string(),
        })
        .collect();
    match parts.as_slice() {
        [.., schema, table] => Relation {
            schema: Some(schema.clone()),
            name: table.clone(),
        },
        [table] => Relation::named(table.clone()),
        [] => Relation::named(name.to_string()),
    }
}

fn table_of(factor: &TableFactor) -> Option<Relation> {
    match factor {
        TableFactor::Table { name, .. } => Some(relation(name)),
        _ => None,
    }
}

/// A column definition's facts.
fn column_spec(name: &str, data_type: &ast::DataType, options: &[ColumnOption]) -> ColumnSpec {
    let ty = ColumnType::parse(&data_type.to_string());
    let mut spec = ColumnSpec {
        name: name.to_owned(),
        generated: matches!(ty.name.as_str(), "serial" | "bigserial" | "smallserial")
            .then(|| ty.name.clone()),
        ty,
        not_null: false,
        default: None,
        references: None,
    };
    for option in options {
        match option {
            ColumnOption::NotNull => spec.not_null = true,
            ColumnOption::PrimaryKey(_) => spec.not_null = true,
            ColumnOption::Default(expr) => spec.default = Some(expr.to_string()),
            ColumnOption::ForeignKey(fk) => spec.references = Some(relation(&fk.foreign_table)),
            ColumnOption::Generated {
                generation_expr, ..
            } => {
                spec.generated = Some(if generation_expr.is_some() {
                    "a generated expression".to_owned()
                } else {
                    "an identity".to_owned()
                });
            }
            ColumnOption::DialectSpecific(tokens) => {
                if let Some(numbering) = mysql::numbering(tokens) {
                    spec.generated = Some(numbering);
                }
            }
            _ => {}
        }
    }
    spec
}

fn column_options(options: &[ast::ColumnOptionDef]) -> Vec<ColumnOption> {
    options.iter().map(|o| o.option.clone()).collect()
}

/// Whether a `USING` expression only casts the column to the new type (`col::varchar(100)`),
/// which PostgreSQL treats as no conversion at all.
fn is_plain_cast(expr: &Expr, column: &str, to: &ast::DataType) -> bool {
    match expr {
        Expr::Cast {
            expr, data_type, ..
        } => {
            let same_column = match expr.as_ref() {
                Expr::Identifier(ident) => ident.value.eq_ignore_ascii_case(column),
                Expr::CompoundIdentifier(parts) => parts
                    .last()
                    .is_some_and(|i| i.value.eq_ignore_ascii_case(column)),
                _ => false,
            };
            let (a, b) = (
                ColumnType::parse(&data_type.to_string()),
                ColumnType::parse(&to.to_string()),
            );
            same_column && a.name == b.name && a.args == b.args
        }
        Expr::Nested(inner) => is_plain_cast(inner, column, to),
        _ => false,
    }
}

/// The column of a check that is exactly `column IS NOT NULL`.
fn not_null_check(expr: &Expr) -> Option<String> {
    match expr {
        Expr::IsNotNull(inner) => match inner.as_ref() {
            Expr::Identifier(ident) => Some(ident.value.clone()),
            Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
            _ => None,
        },
        Expr::Nested(inner) => not_null_check(inner),
        _ => None,
    }
}

/// Appends the facts of one parsed statement.
fn facts_of(statement: &Ast, out: &mut Vec<Fact>) {
    match statement {
        Ast::CreateTable(create) => out.push(create_table(create)),
        Ast::CreateIndex(index) => out.push(Fact::CreateIndex {
            table: relation(&index.table_name),
            concurrently: index.concurrently,
        }),
        Ast::AlterTable(alter) => alter_table(&relation(&alter.name), &alter.operations, out),
        Ast::Drop {
            object_type, names, ..
        } => match object_type {
            ObjectType::Table => {
                out.extend(names.iter().map(|n| Fact::DropTable { table: relation(n) }))
            }
            ObjectType::Index => out.push(Fact::DropIndex {
                concurrently: false,
            }),
            _ => {}
        },
        Ast::RenameTable(renames) => out.extend(renames.iter().map(|r| Fact::RenameTable {
            from: relation(&r.old_name),
            to: relation(&r.new_name).name,
        })),
        Ast::Truncate(truncate) => {
            out.extend(truncate.table_names.iter().map(|t| Fact::Truncate {
                table: relation(&t.name),
            }))
        }
        Ast::Update(update) => {
            if let Some(table) = table_of(&update.table.relation) {
                out.push(Fact::Update {
                    table,
                    filtered: update.selection.is_some(),
                });
            }
        }
        Ast::Delete(delete) => {
            let from = match &delete.from {
                ast::FromTable::WithFromKeyword(tables)
                | ast::FromTable::WithoutKeyword(tables) => tables,
            };
            let filtered = delete.selection.is_some() || delete.using.is_some();
            for table in from.iter().filter_map(|t| table_of(&t.relation)) {
                out.push(Fact::Delete { table, filtered });
            }
        }
        Ast::Insert(insert) => out.extend(inserted(insert)),
        other => session_facts(other, out),
    }
}

/// `CREATE TABLE`: its columns and the tables its foreign keys reference.
fn create_table(create: &ast::CreateTable) -> Fact {
    let mut references = Vec::new();
    let columns = create
        .columns
        .iter()
        .map(|c| {
            let spec = column_spec(&c.name.value, &c.data_type, &column_options(&c.options));
            references.extend(spec.references.clone());
            spec
        })
        .collect();
    for constraint in &create.constraints {
        if let TableConstraint::ForeignKey(fk) = constraint {
            references.push(relation(&fk.foreign_table));
        }
    }
    let primary_key = create
        .constraints
        .iter()
        .any(|c| matches!(c, TableConstraint::PrimaryKey(_)))
        || create
            .columns
            .iter()
            .flat_map(|c| &c.options)
            .any(|o| matches!(o.option, ColumnOption::PrimaryKey(_)));
    Fact::CreateTable {
        table: relation(&create.name),
        columns,
        references,
        primary_key,
        from_query: create.query.is_some(),
    }
}

/// `INSERT INTO t [(columns)] ...`, with the table and select list of an
/// `INSERT ... SELECT` from one table (a rebuild's copy).
fn inserted(insert: &ast::Insert) -> Option<Fact> {
    let ast::TableObject::TableName(name) = &insert.table else {
        return None;
    };
    let select = insert
        .source
        .as_ref()
        .and_then(|query| match query.body.as_ref() {
            SetExpr::Select(select) => Some(select),
            _ => None,
        });
    let source = select.and_then(|select| match select.from.as_slice() {
        [only] if only.joins.is_empty() => table_of(&only.relation),
        _ => None,
    });
    let selected = select.map(|select| {
        select
            .projection
            .iter()
            .map(|item| item.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    });
    Some(Fact::Insert {
        table: relation(name),
        columns: insert.columns.iter().map(|c| c.to_string()).collect(),
        source,
        selected,
    })
}

/// The facts of statements about the session rather than a table's shape or rows: lock
/// timeouts, SQLite's pragmas and foreign key check, `LOCK TABLE`.
fn session_facts(statement: &Ast, out: &mut Vec<Fact>) {
    match statement {
        Ast::Set(ast::Set::SingleAssignment {
            variable, values, ..
        }) if variable.to_string().eq_ignore_ascii_case("lock_timeout") => {
            let value = values.first().map(|v| v.to_string()).unwrap_or_default();
            out.push(Fact::SetLockTimeout {
                enabled: lock_timeout_enabled(&value),
            });
        }
        Ast::Query(query) => {
            let text = query.to_string().to_ascii_lowercase();
            // SQLite's rebuild recipe checks foreign keys with a query.
            out.extend(sqlite::foreign_key_check_in(&text));
            // `SELECT set_config('lock_timeout', '5s', false)`.
            if let Some(rest) = text.split("set_config('lock_timeout',").nth(1) {
                let value = rest.split(',').next().unwrap_or_default();
                out.push(Fact::SetLockTimeout {
                    enabled: lock_timeout_enabled(value),
                });
            }
        }
        Ast::Pragma { name, value, .. } => out.push(Fact::Pragma {
            name: relation(name).name.to_ascii_lowercase(),
            value: value.as_ref().map(|v| {
                v.to_string()
                    .trim_matches(|c| c == '\'' || c == '"')
                    .to_ascii_lowercase()
            }),
        }),
        Ast::Lock(lock) => out.extend(lock.tables.iter().map(|t| Fact::LockTable {
            table: relation(&t.name),
            access_exclusive: matches!(
                lock.lock_mode,
                None | Some(ast::LockTableMode::AccessExclusive)
            ),
        })),
        _ => {}
    }
}

/// The facts of `ALTER TABLE`'s operations, after one [`Fact::AlterTable`] for the whole.
fn alter_table(table: &Relation, operations: &[AlterTableOperation], out: &mut Vec<Fact>) {
    let mut online = OnlineClauses::default();
    let mut access_exclusive = false;
    let mut facts = Vec::new();
    let adds_primary_key = operations.iter().any(|op| {
        matches!(
            op,
            AlterTableOperation::AddConstraint {
                constraint: TableConstraint::PrimaryKey(_),
                ..
            }
        )
    });
    for op in operations {
        access_exclusive |= !is_light(op);
        match op {
            AlterTableOperation::Algorithm { algorithm, .. } => {
                online.algorithm = Some(algorithm.to_string().to_ascii_uppercase());
            }
            AlterTableOperation::Lock { lock, .. } => {
                online.lock = Some(lock.to_string().to_ascii_uppercase());
            }
            AlterTableOperation::RenameTable { table_name } => {
                let (ast::RenameTableNameKind::To(name) | ast::RenameTableNameKind::As(name)) =
                    table_name;
                facts.push(Fact::RenameTable {
                    from: table.clone(),
                    to: relation(name).name,
                });
            }
            _ => {}
        }
        column_facts(table, op, &mut facts);
        retyping_facts(table, op, &mut facts);
        constraint_facts(table, op, adds_primary_key, &mut facts);
    }
    out.push(Fact::AlterTable {
        table: table.clone(),
        access_exclusive,
        online,
    });
    out.extend(facts);
}

/// Whether an `ALTER TABLE` operation takes a lock lighter than ACCESS EXCLUSIVE (every
/// operation takes it but these, PostgreSQL's ALTER TABLE docs say).
fn is_light(op: &AlterTableOperation) -> bool {
    matches!(
        op,
        AlterTableOperation::ValidateConstraint { .. }
            | AlterTableOperation::SetOptionsParens { .. }
            | AlterTableOperation::Algorithm { .. }
            | AlterTableOperation::Lock { .. }
            | AlterTableOperation::AddConstraint {
                constraint: TableConstraint::ForeignKey(_),
                ..
            }
    )
}

/// Columns added (with the foreign key a `REFERENCES` adds), dropped and renamed.
fn column_facts(table: &Relation, op: &AlterTableOperation, facts: &mut Vec<Fact>) {
    match op {
        AlterTableOperation::AddColumn { column_def, .. } => {
            let column = column_spec(
                &column_def.name.value,
                &column_def.data_type,
                &column_options(&column_def.options),
            );
            if column.references.is_some() {
                facts.push(Fact::AddForeignKey {
                    table: table.clone(),
                    name: None,
                    not_valid: false,
                });
            }
            facts.push(Fact::AddColumn {
                table: table.clone(),
                column,
            });
        }
        AlterTableOperation::DropColumn { column_names, .. } => {
            facts.extend(column_names.iter().map(|c| Fact::DropColumn {
                table: table.clone(),
                column: c.value.clone(),
            }));
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => facts.push(Fact::RenameColumn {
            table: table.clone(),
            from: old_column_name.value.clone(),
            to: new_column_name.value.clone(),
            restates: false,
        }),
        _ => {}
    }
}

/// Columns given a new type or NOT NULL: MySQL's `CHANGE` (which renames by restating the
/// column) and `MODIFY`, and `ALTER COLUMN .. TYPE` / `SET NOT NULL`.
fn retyping_facts(table: &Relation, op: &AlterTableOperation, facts: &mut Vec<Fact>) {
    match op {
        AlterTableOperation::ChangeColumn {
            old_name,
            new_name,
            data_type,
            options,
            ..
        } => {
            if !old_name.value.eq_ignore_ascii_case(&new_name.value) {
                facts.push(Fact::RenameColumn {
                    table: table.clone(),
                    from: old_name.value.clone(),
                    to: new_name.value.clone(),
                    restates: true,
                });
            }
            facts.push(Fact::SetType {
                table: table.clone(),
                column: new_name.value.clone(),
                to: column_spec(&new_name.value, data_type, options),
                using: false,
            });
        }
        AlterTableOperation::ModifyColumn {
            col_name,
            data_type,
            options,
            ..
        } => facts.push(Fact::SetType {
            table: table.clone(),
            column: col_name.value.clone(),
            to: column_spec(&col_name.value, data_type, options),
            using: false,
        }),
        AlterTableOperation::AlterColumn { column_name, op } => match op {
            AlterColumnOperation::SetNotNull => facts.push(Fact::SetNotNull {
                table: table.clone(),
                column: column_name.value.clone(),
            }),
            AlterColumnOperation::SetDataType {
                data_type, using, ..
            } => facts.push(Fact::SetType {
                table: table.clone(),
                column: column_name.value.clone(),
                to: column_spec(&column_name.value, data_type, &[]),
                using: using
                    .as_ref()
                    .is_some_and(|e| !is_plain_cast(e, &column_name.value, data_type)),
            }),
            _ => {}
        },
        _ => {}
    }
}

/// Constraints added, validated and dropped; a primary key dropped (`drop_only` unless
/// the same statement adds one: `adds_primary_key`).
fn constraint_facts(
    table: &Relation,
    op: &AlterTableOperation,
    adds_primary_key: bool,
    facts: &mut Vec<Fact>,
) {
    let table = table.clone();
    match op {
        AlterTableOperation::AddConstraint {
            constraint,
            not_valid,
        } => match constraint {
            TableConstraint::ForeignKey(fk) => facts.push(Fact::AddForeignKey {
                table,
                name: fk.name.as_ref().map(|n| n.value.clone()),
                not_valid: *not_valid,
            }),
            TableConstraint::Check(check) => facts.push(Fact::AddCheck {
                table,
                name: check.name.as_ref().map(|n| n.value.clone()),
                not_valid: *not_valid,
                not_null_of: not_null_check(&check.expr),
            }),
            TableConstraint::Unique(_) => facts.push(Fact::AddUnique { table }),
            TableConstraint::PrimaryKey(_) => facts.push(Fact::ChangePrimaryKey {
                table,
                drop_only: false,
            }),
            _ => {}
        },
        AlterTableOperation::DropPrimaryKey { .. } => facts.push(Fact::ChangePrimaryKey {
            table,
            drop_only: !adds_primary_key,
        }),
        AlterTableOperation::ValidateConstraint { name } => {
            facts.push(Fact::ValidateConstraint {
                table,
                name: name.value.clone(),
            });
        }
        AlterTableOperation::DropConstraint { name, .. } => {
            facts.push(Fact::DropConstraint {
                table,
                name: name.value.clone(),
            });
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(sql: &str, backend: Backend) -> Vec<Fact> {
        let parsed = parse_file(sql, backend).unwrap();
        assert!(
            parsed.iter().all(|p| p.unparsed.is_none()),
            "not understood: {parsed:?}"
        );
        parsed.into_iter().flat_map(|p| p.facts).collect()
    }

    #[test]
    fn postgres_migration_sql() {
        let got = facts(
            "SET lock_timeout = '5s';\n\
             CREATE INDEX CONCURRENTLY idx ON posts (title);\n\
             ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n\
             ALTER TABLE posts VALIDATE CONSTRAINT fk;\n\
             ALTER TABLE posts ADD CONSTRAINT nn CHECK (title IS NOT NULL) NOT VALID;\n\
             ALTER TABLE posts ALTER COLUMN title TYPE varchar(300) USING title::varchar(300);\n\
             DROP INDEX CONCURRENTLY idx;",
            Backend::Postgres,
        );
        assert_eq!(got[0], Fact::SetLockTimeout { enabled: true });
        assert!(
            matches!(&got[1], Fact::CreateIndex { concurrently: true, table } if table.name == "posts")
        );
        assert!(matches!(
            &got[2],
            Fact::AlterTable {
                access_exclusive: false,
                ..
            }
        ));
        assert!(
            matches!(&got[3], Fact::AddForeignKey { not_valid: true, name: Some(n), .. } if n == "fk")
        );
        assert!(matches!(&got[5], Fact::ValidateConstraint { name, .. } if name == "fk"));
        assert!(
            matches!(&got[7], Fact::AddCheck { not_valid: true, not_null_of: Some(c), .. } if c == "title")
        );
        assert!(
            matches!(&got[9], Fact::SetType { to, using: false, .. } if to.ty.name == "varchar" && to.ty.args == [300])
        );
        assert_eq!(got[10], Fact::DropIndex { concurrently: true });
    }

    #[test]
    fn mysql_migration_sql() {
        let got = facts(
            "ALTER TABLE posts ADD COLUMN x INT, ALGORITHM=INSTANT, LOCK=NONE;\n\
             ALTER TABLE posts MODIFY COLUMN title VARCHAR(300) NOT NULL;\n\
             ALTER TABLE `posts` CHANGE COLUMN title headline VARCHAR(300);\n\
             ALTER TABLE posts DROP PRIMARY KEY, ADD PRIMARY KEY (id, x);\n\
             RENAME TABLE posts TO articles;",
            Backend::Mysql,
        );
        assert!(matches!(&got[0], Fact::AlterTable { online, .. } if online.refuses_to_block()));
        assert!(matches!(&got[3], Fact::SetType { column, .. } if column == "title"));
        assert!(
            matches!(&got[5], Fact::RenameColumn { restates: true, to, .. } if to == "headline")
        );
        assert!(matches!(
            &got[8],
            Fact::ChangePrimaryKey {
                drop_only: false,
                ..
            }
        ));
        assert!(matches!(&got[10], Fact::RenameTable { to, .. } if to == "articles"));
    }

    #[test]
    fn sqlite_rebuild_recipe() {
        let got = facts(
            "PRAGMA foreign_keys=OFF;\n\
             CREATE TABLE \"new_posts\" (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\n\
             INSERT INTO new_posts (id, title) SELECT id, title FROM posts;\n\
             DROP TABLE posts;\n\
             ALTER TABLE new_posts RENAME TO posts;\n\
             PRAGMA foreign_key_check;",
            Backend::Sqlite,
        );
        assert_eq!(
            got[0],
            Fact::Pragma {
                name: "foreign_keys".into(),
                value: Some("off".into())
            }
        );
        assert!(
            matches!(&got[2], Fact::Insert { source: Some(s), columns, .. } if s.name == "posts" && columns.len() == 2)
        );
        assert!(matches!(&got[3], Fact::DropTable { table } if table.name == "posts"));
    }

    #[test]
    fn what_nothing_reads_is_kept_with_the_reason() {
        let parsed = parse_file("DO $$ BEGIN PERFORM 1; END $$;", Backend::Postgres).unwrap();
        assert_eq!(parsed.len(), 1);
        assert!(parsed[0].unparsed.is_some(), "{parsed:?}");
        let parsed = parse_file("SELECT 1;\n\nUPDATE t\nSET x = 1;", Backend::Sqlite).unwrap();
        assert_eq!((parsed[1].line, parsed[1].end_line), (3, 4));
    }
}
