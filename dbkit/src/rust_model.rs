//! Reads diesel's `schema.rs` (the model) with a real Rust parser: `syn` for the file and
//! diesel's own `diesel_table_macro_syntax` for each `table!`. Understands everything
//! `diesel print-schema` writes, modules included (`joinable!` names the tables of its own
//! module, as Rust resolves them); a column type diesel does not define (from another
//! crate, `import_types`) is kept by name and compared by the database's type name.
//! Anything else is an error naming file, line and column.

use std::collections::HashMap;
use std::path::Path;

use diesel_table_macro_syntax::TableDecl;
use proc_macro2::Span;
use syn::spanned::Spanned;

use crate::backend::Backend;
use crate::dialect::dialect_for;
use crate::error::{Error, IoContext, Result};
use crate::model::{Column, ForeignKey, Schema, Table, TableName};
use crate::rust_enums::EnumLabels;
use crate::sqltype::{DieselType, SqlType};

/// Reads every model file into one schema; enum types get the `labels` of the crate's Rust
/// enums mapped to them ([`EnumLabels::scan`]).
pub fn read_model(
    files: &[std::path::PathBuf],
    backend: Backend,
    labels: EnumLabels,
) -> Result<Schema> {
    let mut reader = ModelReader::new(backend, labels);
    for file in files {
        let text = std::fs::read_to_string(file).at(file)?;
        reader.read(file, &text)?;
    }
    reader.finish()
}

/// Reads one model text (tests, and callers that already hold the text).
pub fn read_model_str(file: &Path, text: &str, backend: Backend) -> Result<Schema> {
    read_model_str_with(file, text, backend, EnumLabels::default())
}

/// Reads one model text with the labels of the crate's Rust enums.
pub fn read_model_str_with(
    file: &Path,
    text: &str,
    backend: Backend,
    labels: EnumLabels,
) -> Result<Schema> {
    let mut reader = ModelReader::new(backend, labels);
    reader.read(file, text)?;
    reader.finish()
}

struct PendingJoin {
    /// The module the `joinable!` is in (outermost first).
    module: Vec<String>,
    child: String,
    parent: String,
    column: String,
    at: String,
}

struct ModelReader {
    backend: Backend,
    schema: Schema,
    /// (module, Rust name of each table: its `table!` ident) → SQL name.
    rust_names: HashMap<(Vec<String>, String), TableName>,
    /// (table, Rust name of a column) → its SQL name.
    column_sql_names: HashMap<(TableName, String), String>,
    /// Custom SQL types from `sql_types` modules: struct name → SQL type name.
    custom_types: HashMap<String, String>,
    /// The labels of the crate's Rust enums, by the SQL type they map to.
    labels: EnumLabels,
    joins: Vec<PendingJoin>,
}

fn at(file: &Path, span: Span) -> String {
    let start = span.start();
    format!("{}:{}:{}", file.display(), start.line, start.column + 1)
}

fn model_error(file: &Path, span: Span, message: impl std::fmt::Display) -> Error {
    Error::Model(format!("{}: {message}", at(file, span)))
}

impl ModelReader {
    fn new(backend: Backend, labels: EnumLabels) -> Self {
        ModelReader {
            backend,
            labels,
            schema: Schema::default(),
            rust_names: HashMap::new(),
            column_sql_names: HashMap::new(),
            custom_types: HashMap::new(),
            joins: Vec::new(),
        }
    }

    fn read(&mut self, file: &Path, text: &str) -> Result<()> {
        let parsed = syn::parse_file(text).map_err(|e| model_error(file, e.span(), e))?;
        // Custom types first: tables may use them before the module appears.
        self.collect_types(file, &parsed.items)?;
        self.read_items(file, &parsed.items, &mut Vec::new())
    }

    fn collect_types(&mut self, file: &Path, items: &[syn::Item]) -> Result<()> {
        for item in items {
            if let syn::Item::Mod(module) = item {
                if let Some((_, inner)) = &module.content {
                    if module.ident == "sql_types" {
                        for item in inner {
                            self.custom_type(file, item)?;
                        }
                    } else {
                        self.collect_types(file, inner)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn custom_type(&mut self, file: &Path, item: &syn::Item) -> Result<()> {
        let strukt = match item {
            syn::Item::Struct(s) => s,
            syn::Item::Use(_) => return Ok(()),
            other => {
                return Err(model_error(
                    file,
                    other.span(),
                    "only structs belong in `sql_types`",
                ));
            }
        };
        let mut sql_name = None;
        let mut postgres_name = None;
        for attr in strukt.attrs.iter().filter(|a| a.path().is_ident("diesel")) {
            attr.parse_nested_meta(|meta| {
                let kind = meta
                    .path
                    .get_ident()
                    .map(|i| i.to_string())
                    .unwrap_or_default();
                if matches!(
                    kind.as_str(),
                    "postgres_type" | "mysql_type" | "sqlite_type"
                ) {
                    let mut name = None;
                    let mut schema = None;
                    meta.parse_nested_meta(|inner| {
                        let value: syn::LitStr = inner.value()?.parse()?;
                        if inner.path.is_ident("name") {
                            name = Some(value.value());
                        } else if inner.path.is_ident("schema") {
                            schema = Some(value.value());
                        } else if !inner.path.is_ident("oid") && !inner.path.is_ident("array_oid") {
                            return Err(inner.error("unknown key"));
                        }
                        Ok(())
                    })?;
                    sql_name = name.map(|n| match schema {
                        Some(s) => format!("{s}.{n}"),
                        None => n,
                    });
                    if kind == "postgres_type" {
                        postgres_name.clone_from(&sql_name);
                    }
                } else if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                } else if meta.input.peek(syn::token::Paren) {
                    meta.parse_nested_meta(|_| Ok(()))?;
                }
                Ok(())
            })
            .map_err(|e| model_error(file, e.span(), e))?;
        }
        let sql_name = sql_name.ok_or_else(|| {
            model_error(
                file,
                strukt.ident.span(),
                format!(
                    "custom type `{}` has no #[diesel(postgres_type(name = ..))] or #[diesel(mysql_type(name = ..))]",
                    strukt.ident
                ),
            )
        })?;
        self.declare(strukt.ident.to_string(), sql_name, postgres_name);
        Ok(())
    }

    /// Records a `sql_types` struct: its SQL name (the `postgres_type` one where enums are
    /// named types, which it may be one of: its labels are the Rust enum's mapped to it,
    /// or unknown).
    fn declare(&mut self, ident: String, sql_name: String, postgres_name: Option<String>) {
        let dialect = dialect_for(self.backend);
        let sql_name = match postgres_name {
            Some(name) if dialect.named_enum_types() => name,
            _ => sql_name,
        };
        if dialect.named_enum_types() {
            let name = TableName::parse_qualified(&sql_name, dialect.default_schema());
            let labels = self.labels.get(&ident).map(<[String]>::to_vec);
            self.schema.enums.insert(name, labels);
        }
        self.custom_types.insert(ident, sql_name);
    }

    fn read_items(
        &mut self,
        file: &Path,
        items: &[syn::Item],
        module_path: &mut Vec<String>,
    ) -> Result<()> {
        for item in items {
            match item {
                syn::Item::Use(_) => {}
                syn::Item::Mod(module) => {
                    if let Some((_, inner)) = &module.content {
                        if module.ident != "sql_types" {
                            module_path.push(module.ident.to_string());
                            let read = self.read_items(file, inner, module_path);
                            module_path.pop();
                            read?;
                        }
                    }
                }
                syn::Item::Macro(m) => self.read_macro(file, &m.mac, module_path)?,
                other => {
                    return Err(model_error(
                        file,
                        other.span(),
                        "unexpected item: a schema file holds diesel's table!, joinable! and allow_tables_to_appear_in_same_query! macros, `use` and `mod` items",
                    ));
                }
            }
        }
        Ok(())
    }

    fn read_macro(&mut self, file: &Path, mac: &syn::Macro, module_path: &[String]) -> Result<()> {
        match last_ident(&mac.path).as_str() {
            "table" => {
                let decl: TableDecl = syn::parse2(mac.tokens.clone())
                    .map_err(|e| model_error(file, e.span(), format!("malformed table!: {e}")))?;
                self.read_table(file, decl, module_path)
            }
            "joinable" => {
                let join = syn::parse2::<JoinDecl>(mac.tokens.clone()).map_err(|e| {
                    model_error(file, e.span(), format!("malformed joinable!: {e}"))
                })?;
                self.joins.push(PendingJoin {
                    module: module_path.to_vec(),
                    child: join.child.to_string(),
                    parent: join.parent.to_string(),
                    column: join.column.to_string(),
                    at: at(file, join.child.span()),
                });
                Ok(())
            }
            "allow_tables_to_appear_in_same_query"
            | "allow_columns_to_appear_in_same_group_by_clause" => Ok(()),
            other => Err(model_error(
                file,
                mac.path.span(),
                format!("unknown macro `{other}!` in a schema file"),
            )),
        }
    }

    fn read_table(&mut self, file: &Path, decl: TableDecl, module_path: &[String]) -> Result<()> {
        let default_schema = dialect_for(self.backend).default_schema();
        let schema = decl
            .schema
            .as_ref()
            .map(|s| s.to_string())
            .filter(|s| Some(s.as_str()) != default_schema);
        let name = TableName {
            schema,
            name: decl.sql_name.clone(),
        };
        let columns = self.columns(file, &decl, &name)?;
        let primary_key = primary_key(file, &decl, &name, &columns)?;
        if self.schema.tables.contains_key(&name) {
            return Err(model_error(
                file,
                decl.table_name.span(),
                format!("table `{name}` is declared twice"),
            ));
        }
        self.rust_names.insert(
            (module_path.to_vec(), decl.table_name.to_string()),
            name.clone(),
        );
        for def in &decl.column_defs {
            self.column_sql_names.insert(
                (name.clone(), def.column_name.to_string()),
                def.sql_name.clone(),
            );
        }
        self.schema.tables.insert(
            name.clone(),
            Table {
                name,
                columns,
                primary_key,
                primary_key_name: None,
                foreign_keys: Vec::new(),
                indexes: Vec::new(),
                implicit_key: None,
            },
        );
        Ok(())
    }

    /// The columns of a `table!`, by their SQL names.
    fn columns(&self, file: &Path, decl: &TableDecl, table: &TableName) -> Result<Vec<Column>> {
        let mut columns = Vec::new();
        for def in &decl.column_defs {
            let max_length = match &def.max_length {
                Some(lit) => Some(
                    lit.base10_parse::<u32>()
                        .map_err(|e| model_error(file, lit.span(), e))?,
                ),
                None => None,
            };
            let (ty, nullable) = self.column_type(&def.tpe, max_length).map_err(|message| {
                model_error(
                    file,
                    def.tpe.span(),
                    format!("{message} (column `{}.{}`)", table, def.sql_name),
                )
            })?;
            columns.push(Column {
                name: def.sql_name.clone(),
                ty,
                nullable,
                default: None,
                extra: None,
                nullability_either: false,
            });
        }
        Ok(columns)
    }

    /// `Nullable<Array<Nullable<Int4>>>` and friends → type and nullability.
    fn column_type(
        &self,
        path: &syn::TypePath,
        max_length: Option<u32>,
    ) -> std::result::Result<(SqlType, bool), String> {
        let mut nullable = false;
        let mut array = false;
        let mut unsigned = false;
        let mut current = path.clone();
        loop {
            let last = current.path.segments.last().ok_or("empty type")?;
            let ident = last.ident.to_string();
            let inner = match &last.arguments {
                syn::PathArguments::AngleBracketed(args) => match args.args.first() {
                    Some(syn::GenericArgument::Type(syn::Type::Path(p)))
                        if args.args.len() == 1 =>
                    {
                        Some(p.clone())
                    }
                    _ => return Err(format!("unsupported type arguments on `{ident}`")),
                },
                syn::PathArguments::None => None,
                syn::PathArguments::Parenthesized(_) => {
                    return Err(format!("unsupported type `{ident}(..)`"));
                }
            };
            match (ident.as_str(), inner) {
                ("Nullable", Some(inner)) => {
                    // Array elements are always nullable in diesel's pg mapping.
                    if !array {
                        nullable = true;
                    }
                    current = inner;
                }
                ("Array", Some(inner)) => {
                    array = true;
                    current = inner;
                }
                ("Unsigned", Some(inner)) => {
                    unsigned = true;
                    current = inner;
                }
                // `Range<Int4>` is `int4range`; another generic type from some crate is
                // compared by its own name.
                (generic, Some(inner)) => {
                    let element = last_ident(&inner.path);
                    let name =
                        range_type_name(generic, &element).unwrap_or_else(|| generic.to_owned());
                    let ty = DieselType {
                        name: &name,
                        sql_name: None,
                        max_length,
                        unsigned,
                        array,
                        labels: None,
                    };
                    return Ok((SqlType::from_diesel(&ty, self.backend)?, nullable));
                }
                (name, None) => {
                    let sql_name = self.custom_types.get(name).map(String::as_str);
                    let ty = DieselType {
                        name,
                        sql_name,
                        max_length,
                        unsigned,
                        array,
                        labels: sql_name.and_then(|_| self.labels.get(name)),
                    };
                    return Ok((SqlType::from_diesel(&ty, self.backend)?, nullable));
                }
            }
        }
    }

    fn finish(mut self) -> Result<Schema> {
        for join in std::mem::take(&mut self.joins) {
            // The table of that name in the joinable!'s module, else in the nearest
            // enclosing one (`use super::*`).
            let lookup = |rust: &str| {
                (0..=join.module.len())
                    .rev()
                    .find_map(|depth| {
                        self.rust_names
                            .get(&(join.module[..depth].to_vec(), rust.to_owned()))
                    })
                    .cloned()
                    .ok_or_else(|| {
                        Error::Model(format!(
                            "{}: joinable! names `{rust}`, which no table! declares",
                            join.at
                        ))
                    })
            };
            let child = lookup(&join.child)?;
            let parent = lookup(&join.parent)?;
            let table = self
                .schema
                .tables
                .get_mut(&child)
                .ok_or_else(|| Error::Model(format!("{}: unknown table `{child}`", join.at)))?;
            // joinable! names the column by its Rust name (`type_` for `#[sql_name = "type"]`).
            let column = self
                .column_sql_names
                .get(&(child.clone(), join.column.clone()))
                .cloned()
                .ok_or_else(|| {
                    Error::Model(format!(
                        "{}: joinable! uses column `{}`, which `{child}` does not have",
                        join.at, join.column
                    ))
                })?;
            let key = ForeignKey {
                name: None,
                columns: vec![column],
                ref_table: parent,
                ref_columns: Vec::new(),
                on_delete: None,
                on_update: None,
            };
            // The same joinable! twice (a model split over files) is one foreign key.
            if !table.foreign_keys.contains(&key) {
                table.foreign_keys.push(key);
            }
        }
        Ok(self.schema)
    }
}

/// The primary key of a `table!`, by SQL names: the one it declares, else `id` (diesel's
/// default).
fn primary_key(
    file: &Path,
    decl: &TableDecl,
    table: &TableName,
    columns: &[Column],
) -> Result<Vec<String>> {
    let Some(declared) = &decl.primary_keys else {
        if columns.iter().any(|c| c.name == "id") {
            return Ok(vec!["id".to_owned()]);
        }
        return Err(model_error(
            file,
            decl.table_name.span(),
            format!("table `{table}` has no primary key and no `id` column"),
        ));
    };
    declared
        .keys
        .iter()
        .map(|ident| {
            let rust = ident.to_string();
            decl.column_defs
                .iter()
                .find(|c| c.column_name == rust)
                .map(|c| c.sql_name.clone())
                .ok_or_else(|| {
                    model_error(
                        file,
                        ident.span(),
                        format!("primary key column `{rust}` is not a column of `{table}`"),
                    )
                })
        })
        .collect()
}

/// The last name of a path (`diesel::table` → `table`, `sql_types::Int4` → `Int4`).
fn last_ident(path: &syn::Path) -> String {
    path.segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

/// diesel's name for `Range<T>` / `Multirange<T>` (`Int4range`, `Tstzmultirange`…).
fn range_type_name(generic: &str, element: &str) -> Option<String> {
    let suffix = match generic {
        "Range" => "range",
        "Multirange" => "multirange",
        _ => return None,
    };
    let prefix = match element {
        "Int4" | "Integer" => "Int4",
        "Int8" | "BigInt" | "Bigint" => "Int8",
        "Numeric" | "Decimal" => "Num",
        "Timestamp" => "Ts",
        "Timestamptz" => "Tstz",
        "Date" => "Date",
        _ => return None,
    };
    Some(format!("{prefix}{suffix}"))
}

/// `child -> parent (column)`.
struct JoinDecl {
    child: syn::Ident,
    parent: syn::Ident,
    column: syn::Ident,
}

impl syn::parse::Parse for JoinDecl {
    fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
        let child = input.parse()?;
        let _: syn::Token![->] = input.parse()?;
        let parent = input.parse()?;
        let content;
        syn::parenthesized!(content in input);
        let column = content.parse()?;
        Ok(JoinDecl {
            child,
            parent,
            column,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqltype::TypeKind;

    const PG: &str = r#"// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "mood"))]
    pub struct Mood;
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Mood;

    /// The people.
    users (id) {
        id -> Int4,
        #[max_length = 120]
        email -> Varchar,
        nick -> Nullable<Text>,
        feeling -> Mood,
        tags -> Nullable<Array<Nullable<Text>>>,
        #[sql_name = "type"]
        type_ -> Int2,
    }
}

diesel::table! {
    posts (user_id, slug) {
        user_id -> Int4,
        slug -> Text,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(posts -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(posts, users,);
"#;

    #[test]
    fn reads_print_schema_output() {
        let schema = read_model_str(Path::new("src/schema.rs"), PG, Backend::Postgres).unwrap();
        let users = &schema.tables[&TableName::new("users")];
        assert_eq!(users.primary_key, ["id"]);
        let email = users.column("email").unwrap();
        assert_eq!(
            (&email.ty.kind, email.ty.max_length, email.nullable),
            (&TypeKind::Varchar, Some(120), false)
        );
        assert!(users.column("nick").unwrap().nullable);
        assert_eq!(
            users.column("feeling").unwrap().ty.kind,
            TypeKind::Custom("Mood".into())
        );
        let tags = users.column("tags").unwrap();
        assert!(tags.ty.array && tags.nullable);
        assert!(users.column("type").is_some());
        let posts = &schema.tables[&TableName::new("posts")];
        assert_eq!(posts.primary_key, ["user_id", "slug"]);
        assert_eq!(posts.foreign_keys[0].columns, ["user_id"]);
        assert_eq!(posts.foreign_keys[0].ref_table, TableName::new("users"));
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let bad_type = "diesel::table! {\n    users (id) {\n        id -> Int4,\n        x -> Unsigned<Int4>,\n    }\n}\n";
        let err = read_model_str(Path::new("src/schema.rs"), bad_type, Backend::Postgres)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("src/schema.rs:4:14:"), "{err}");
        assert!(err.contains("Unsigned") && err.contains("users.x"), "{err}");
        let bad_join =
            "diesel::table! { a (id) { id -> Integer, } }\ndiesel::joinable!(a -> b (id));\n";
        let err = read_model_str(Path::new("s.rs"), bad_join, Backend::Sqlite)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("s.rs:2:19:") && err.contains("`b`"),
            "{err}"
        );
        let syntax = "diesel::table! { a (id) { id -> , } }\n";
        let err = read_model_str(Path::new("s.rs"), syntax, Backend::Sqlite)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("s.rs:1:"), "{err}");
        let unknown = "fn main() {}\n";
        let err = read_model_str(Path::new("s.rs"), unknown, Backend::Sqlite)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("s.rs:1:1:"), "{err}");
    }

    #[test]
    fn types_from_other_crates_and_modules() {
        let text = r#"
pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector", schema = "pg_catalog"))]
    pub struct Tsvector;
}

diesel::table! {
    use diesel::sql_types::*;
    use diesel_full_text_search::types::*;
    use postgis_diesel::sql_types::Geometry;

    docs (id) {
        id -> Int4,
        tsv -> Tsvector,
        path -> Ltree,
        shape -> Nullable<Geometry>,
        pages -> Nullable<Range<Int4>>,
        #[sql_name = "type"]
        type_ -> Nullable<Int4>,
    }
}

diesel::table! {
    users (id) {
        id -> Int4,
    }
}

diesel::joinable!(docs -> users (type_));
diesel::joinable!(docs -> users (type_));

pub mod app {
    diesel::table! {
        app.docs (id) {
            id -> Int4,
            user_id -> Int4,
        }
    }

    diesel::table! {
        app.users (id) {
            id -> Int4,
        }
    }

    diesel::joinable!(docs -> users (user_id));
}
"#;
        let schema = read_model_str(Path::new("s.rs"), text, Backend::Postgres).unwrap();
        let docs = &schema.tables[&TableName::new("docs")];
        let kinds: Vec<&TypeKind> = docs.columns.iter().map(|c| &c.ty.kind).collect();
        let custom = |name: &str| TypeKind::Custom(name.into());
        assert_eq!(
            kinds,
            [
                &TypeKind::Int4,
                &custom("Tsvector"),
                &custom("Ltree"),
                &custom("Geometry"),
                &custom("Int4range"),
                &TypeKind::Int4
            ]
        );
        assert_eq!(docs.column("path").unwrap().ty.native, "ltree");
        // The repeated joinable! is one key, on the SQL column name; the module's
        // joinable! joins the module's tables.
        assert_eq!(docs.foreign_keys.len(), 1);
        assert_eq!(docs.foreign_keys[0].columns, ["type"]);
        let app = |name: &str| TableName {
            schema: Some("app".into()),
            name: name.into(),
        };
        let app_docs = &schema.tables[&app("docs")];
        assert_eq!(app_docs.foreign_keys.len(), 1);
        assert_eq!(app_docs.foreign_keys[0].ref_table, app("users"));
    }

    #[test]
    fn mysql_unsigned_and_schemas() {
        let text = "diesel::table! { t (id) { id -> Unsigned<Bigint>, flag -> Bool, } }\n";
        let schema = read_model_str(Path::new("s.rs"), text, Backend::Mysql).unwrap();
        let t = &schema.tables[&TableName::new("t")];
        assert!(t.column("id").unwrap().ty.unsigned);
        let pg = "pub mod other { diesel::table! { other.things (id) { id -> Int4, } } }\n";
        let schema = read_model_str(Path::new("s.rs"), pg, Backend::Postgres).unwrap();
        assert!(
            schema
                .tables
                .keys()
                .any(|k| k.schema.as_deref() == Some("other"))
        );
    }
}
