//! Column types and the equivalence table: which diesel `sql_types` name and which catalog
//! type mean the same thing on each backend.
//!
//! Both sides are reduced to a canonical *kind* — the name `diesel print-schema` would
//! write for that catalog type (after diesel's own aliases). A model type is first rendered
//! to the SQL the planner would emit, then read back like a catalog type, so "what we would
//! create" and "what the database has" always go through the same reader. That makes a
//! `schema.rs` written by `diesel print-schema` compare equal to its database.
//!
//! | backend | catalog type (examples) | kind | diesel names mapping to it |
//! | --- | --- | --- | --- |
//! | all | int4 / integer / int(11) / INTEGER | `Integer` (pg `Int4`) | `Integer`, `Int4` |
//! | all | int8 / bigint(20) / BIGINT | `BigInt` (pg `Int8`) | `BigInt`, `Bigint`, `Int8` |
//! | all | int2 / smallint(6) / SMALLINT | `SmallInt` (pg `Int2`) | `SmallInt`, `Smallint`, `Int2` |
//! | mysql | tinyint(1) | `Bool` | `Bool` |
//! | mysql | tinyint(4) | `TinyInt` | `TinyInt`, `Tinyint` |
//! | sqlite | anything with `tiny`+`int`, BOOLEAN, BOOL | `Bool` | `Bool`, `TinyInt` |
//! | pg | boolean | `Bool` | `Bool` |
//! | all | varchar(n) / character varying(n) | `Varchar` (sqlite `Text`) | `Varchar`, `VarChar` + `#[max_length]` |
//! | all | text, longtext, mediumtext, tinytext, clob | `Text` | `Text`, `Longtext`, … |
//! | mysql | json (MariaDB reports longtext) | `Text` | `Json` |
//! | pg | character(n) / bpchar | `Bpchar` | `Bpchar` |
//! | mysql | char(n) | `Char` | `Char` |
//! | pg | bytea | `Bytea` | `Bytea`, `Binary`, `Blob` |
//! | mysql | blob, tinyblob, mediumblob, longblob | `Blob` | `Blob`, `Longblob`, …, `Binary` without length |
//! | sqlite | BLOB, empty type | `Binary` | `Binary`, `Blob`, `Bytea` |
//! | pg | real / double precision | `Float4` / `Float8` | `Float`, `Float4` / `Double`, `Float8` |
//! | mysql | float / double | `Float` / `Double` | `Float` / `Double` |
//! | sqlite | REAL, FLOAT / DOUBLE, NUMERIC, DECIMAL | `Float` / `Double` | `Float` / `Double`, `Numeric` |
//! | pg, mysql | numeric(p,s), decimal(p,s) | `Numeric` | `Numeric`, `Decimal` |
//! | pg | timestamp [without time zone] / with time zone | `Timestamp` / `Timestamptz` | same |
//! | mysql | datetime(p), timestamp | `Datetime` | `Datetime`, `Timestamp` |
//! | sqlite | DATETIME, TIMESTAMP | `Timestamp` | `Timestamp`, `Datetime`, `Timestamptz`, `TimestamptzSqlite` |
//! | all | date, time | `Date`, `Time` | same |
//! | pg | uuid, json, jsonb, interval, money, inet, cidr, macaddr, oid, citext | same, capitalised | same |
//! | pg | `T[]` | array of `T` | `Array<T>` |
//! | pg | an enum type | `custom:<name>` | a `sql_types` struct with `postgres_type(name = ..)` |
//! | mysql | enum('a',..) | `Enum` | a `sql_types` struct with `mysql_type(name = "Enum")` |
//! | pg | any other type (extensions' `citext`, `ltree`, `tsvector`, PostGIS…) | `custom:<UpperCamel>` | the same name from any crate (`import_types`), or a `sql_types` struct |
//!
//! How diesel sees types, which the comparison follows:
//! - A type's schema qualification is not part of its kind (`pg_catalog.tsvector`,
//!   `extensions.citext` and `tsvector`, `citext` are the same), and other types compare by
//!   their name as print-schema spells it (`ltree` is `Ltree`), so a type from another crate
//!   (`diesel_full_text_search::Tsvector`) needs no definition to compare.
//! - `Text` and the other text names without `#[max_length]` match any text column:
//!   diesel's `Varchar`, `Bpchar`, `Char` are aliases of `Text`; with `#[max_length]` the
//!   kind and the length are compared.
//! - A column of a PostgreSQL domain is its base type (print-schema writes that), or the
//!   domain's own name (`pg_domains_as_custom_types`).

use heck::ToUpperCamelCase;

use crate::backend::Backend;

/// The kinds one text family holds: without a length, the model's name for one of them
/// matches a column of any of them.
const TEXT_FAMILY: &[&str] = &["Text", "Varchar", "Bpchar", "Char"];

/// A column type: its canonical kind plus what diesel also tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlType {
    /// The canonical kind for the backend (see the table above).
    pub kind: String,
    /// `#[max_length]` / the `(n)` of varchar and char.
    pub max_length: Option<u32>,
    /// MySQL `UNSIGNED`.
    pub unsigned: bool,
    /// PostgreSQL array of `kind`.
    pub array: bool,
    /// The SQL to declare it (`character varying(40)`, `int(10) unsigned`, `TEXT`).
    pub native: String,
    /// Another kind a model may call the same column (database side): a PostgreSQL
    /// domain's own name, SQLite's `BigInt` for a rowid `INTEGER` key.
    pub alias_kind: Option<String>,
}

impl SqlType {
    /// Reads a catalog type as the database reports it.
    pub fn from_catalog(data_type: &str, backend: Backend) -> SqlType {
        let native = data_type.trim().to_owned();
        let lower = native.to_ascii_lowercase();
        match backend {
            Backend::Sqlite => sqlite_kind(&lower, native),
            Backend::Postgres => postgres_kind(&lower, native),
            Backend::Mysql => mysql_kind(&lower, native),
        }
    }

    /// A model type: a diesel `sql_types` name (`Int4`, `Varchar`, `Timestamptz`, or a
    /// custom type's SQL name when `custom` is set). A name diesel does not define for the
    /// backend (a type from another crate, `import_types`) is compared by the database's
    /// type name, as print-schema spells it. Errors name what cannot exist.
    pub fn from_diesel(
        name: &str,
        custom: Option<&str>,
        max_length: Option<u32>,
        unsigned: bool,
        array: bool,
        backend: Backend,
    ) -> Result<SqlType, String> {
        let base = match custom {
            Some(sql_name) => render_custom(sql_name, backend),
            None => render(name, max_length, backend).unwrap_or_else(|| opaque_sql_name(name)),
        };
        let native = match (unsigned, array) {
            (true, _) if backend != Backend::Mysql => {
                return Err(format!("`Unsigned<{name}>` exists only on MySQL"));
            }
            (true, _) => format!("{base} UNSIGNED"),
            (_, true) if backend != Backend::Postgres => {
                return Err(format!("`Array<{name}>` exists only on PostgreSQL"));
            }
            (_, true) => format!("{base}[]"),
            _ => base,
        };
        let mut ty = SqlType::from_catalog(&native, backend);
        // The length is what the model says (none: not compared), except for MySQL enums
        // and sets, whose "length" print-schema copies from the longest label.
        if !matches!(ty.kind.as_str(), "Enum" | "Set") {
            ty.max_length = max_length;
        }
        Ok(ty)
    }

    /// Reads a PostgreSQL domain column: the base type's kind (print-schema writes it),
    /// with the domain's own name as the alias, and the domain as the native type.
    pub fn from_domain(domain: &str, base: &str, backend: Backend) -> SqlType {
        let mut ty = SqlType::from_catalog(base, backend);
        let own = SqlType::from_catalog(domain, backend);
        ty.alias_kind = Some(own.kind);
        ty.native = own.native;
        ty
    }

    /// Whether a database column of type `self` satisfies a model type `model`. What the
    /// model does not say (a length without `#[max_length]`) is not compared.
    pub fn satisfies(&self, model: &SqlType) -> bool {
        let same_kind = self.kind == model.kind
            || self.alias_kind.as_deref() == Some(model.kind.as_str())
            || (model.max_length.is_none()
                && !model.array
                && TEXT_FAMILY.contains(&model.kind.as_str())
                && TEXT_FAMILY.contains(&self.kind.as_str()));
        same_kind
            && self.unsigned == model.unsigned
            && self.array == model.array
            && (model.max_length.is_none() || self.max_length == model.max_length)
    }

    /// Whether changing from `self` to `to` can lose data (narrower or another kind).
    pub fn narrows_to(&self, to: &SqlType) -> bool {
        if self.array != to.array || (self.unsigned && !to.unsigned) {
            return true;
        }
        if self.kind == to.kind {
            return match (self.max_length, to.max_length) {
                (Some(from), Some(to)) => to < from,
                (None, Some(_)) => true,
                _ => false,
            };
        }
        let rank = |kind: &str| -> Option<(u8, u8)> {
            Some(match kind {
                "Bool" => (0, 0),
                "TinyInt" => (0, 1),
                "SmallInt" | "Int2" => (0, 2),
                "Integer" | "Int4" => (0, 3),
                "BigInt" | "Int8" => (0, 4),
                "Float" | "Float4" => (1, 1),
                "Double" | "Float8" => (1, 2),
                "Char" | "Bpchar" => (2, 1),
                "Varchar" => (2, 2),
                "Text" => (2, 3),
                _ => return None,
            })
        };
        match (rank(&self.kind), rank(&to.kind)) {
            (Some((family_a, a)), Some((family_b, b))) if family_a == family_b => b < a,
            _ => true,
        }
    }
}

fn parse_length(lower: &str) -> Option<u32> {
    let open = lower.find('(')?;
    let close = lower[open..].find(')')? + open;
    lower[open + 1..close]
        .split(',')
        .next()?
        .trim()
        .parse()
        .ok()
}

fn base_name(lower: &str) -> &str {
    lower.split('(').next().unwrap_or(lower).trim()
}

fn plain(kind: &str, native: String) -> SqlType {
    SqlType {
        kind: kind.to_owned(),
        max_length: None,
        unsigned: false,
        array: false,
        native,
        alias_kind: None,
    }
}

/// The kind of a type diesel has no name for: print-schema's spelling of its name
/// (`UpperCamelCase`), without schema qualification or quotes.
fn custom(name: &str, native: String) -> SqlType {
    plain(
        &format!("custom:{}", unqualified(name).to_upper_camel_case()),
        native,
    )
}

/// `schema.name` → `name`; quotes dropped (`"pg_catalog"."tsvector"` → `tsvector`).
fn unqualified(name: &str) -> &str {
    strip_qualification(name.trim()).trim_matches('"')
}

/// The SQL name of a type known only by its diesel name: print-schema turns `ltree` into
/// `Ltree` and `my_type` into `MyType`, so this is the way back.
fn opaque_sql_name(name: &str) -> String {
    heck::ToSnakeCase::to_snake_case(name)
}

/// diesel's SQLite rules (affinity-like substring tests, in diesel's order).
fn sqlite_kind(lower: &str, native: String) -> SqlType {
    let name = if lower == "generated always" {
        ""
    } else {
        lower
    };
    let kind =
        if name == "boolean" || name == "bool" || (name.contains("tiny") && name.contains("int")) {
            "Bool"
        } else if name == "int2" || (name.contains("small") && name.contains("int")) {
            "SmallInt"
        } else if name == "int8" || (name.contains("big") && name.contains("int")) {
            "BigInt"
        } else if name.contains("int") {
            "Integer"
        } else if name.contains("char") || name.contains("clob") || name.contains("text") {
            "Text"
        } else if name.contains("blob") || name.contains("binary") || name.is_empty() {
            "Binary"
        } else if name.contains("float") || name.contains("real") {
            "Float"
        } else if name.contains("double") || name.contains("num") || name.contains("dec") {
            "Double"
        } else if name == "datetime" || name == "timestamp" {
            "Timestamp"
        } else if name == "date" {
            "Date"
        } else if name == "time" {
            "Time"
        } else {
            return custom(base_name(name), native);
        };
    let mut ty = plain(kind, native);
    if kind == "Text" {
        ty.max_length = parse_length(lower);
    }
    ty
}

fn postgres_kind(lower: &str, native: String) -> SqlType {
    if let Some(element) = lower.strip_suffix("[]") {
        let mut ty = postgres_kind(element, native.clone());
        ty.array = true;
        ty.native = native;
        return ty;
    }
    // A type in another schema than the search path's (`extensions.citext`) is the same type.
    let lower = strip_qualification(lower);
    let base = base_name(lower);
    // format_type writes the precision inside: `timestamp(3) without time zone`.
    let without_precision: String = {
        let mut s = lower.to_owned();
        if let (Some(open), Some(close)) = (s.find('('), s.find(')')) {
            if base.starts_with("time") {
                s.replace_range(open..=close, "");
            }
        }
        s
    };
    let kind = match without_precision.as_str() {
        "integer" | "int" | "int4" | "serial" => "Int4",
        "bigint" | "int8" | "bigserial" => "Int8",
        "smallint" | "int2" | "smallserial" => "Int2",
        "real" | "float4" => "Float4",
        "double precision" | "float8" => "Float8",
        "boolean" | "bool" => "Bool",
        "text" => "Text",
        "bytea" => "Bytea",
        "date" => "Date",
        "time" | "time without time zone" => "Time",
        "timestamp" | "timestamp without time zone" => "Timestamp",
        "timestamptz" | "timestamp with time zone" => "Timestamptz",
        "interval" => "Interval",
        "uuid" => "Uuid",
        "json" => "Json",
        "jsonb" => "Jsonb",
        "money" => "Money",
        "inet" => "Inet",
        "cidr" => "Cidr",
        "macaddr" => "Macaddr",
        "oid" => "Oid",
        "citext" => "Citext",
        "\"char\"" => "CChar",
        _ => match base {
            "numeric" | "decimal" => "Numeric",
            "character varying" | "varchar" => {
                let mut ty = plain("Varchar", native);
                ty.max_length = parse_length(lower);
                return ty;
            }
            "character" | "char" | "bpchar" => {
                let mut ty = plain("Bpchar", native);
                ty.max_length = parse_length(lower).or(Some(1)).filter(|_| base != "bpchar");
                return ty;
            }
            _ => {
                let spelled =
                    base_name(strip_qualification(native.trim_end_matches("[]"))).to_owned();
                return custom(&spelled, native);
            }
        },
    };
    plain(kind, native)
}

/// `schema.type(args)` → `type(args)`, quotes kept (`"app"."Mood"` → `"Mood"`).
fn strip_qualification(type_text: &str) -> &str {
    let head_end = type_text.find('(').unwrap_or(type_text.len());
    let mut in_quotes = false;
    let mut start = 0;
    for (i, c) in type_text[..head_end].char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            '.' if !in_quotes => start = i + 1,
            _ => {}
        }
    }
    &type_text[start..]
}

fn mysql_kind(lower: &str, native: String) -> SqlType {
    if lower.starts_with("tinyint(1)") && !lower.contains("unsigned") {
        return plain("Bool", native);
    }
    let unsigned = lower.contains("unsigned");
    let base = base_name(lower)
        .split_whitespace()
        .next()
        .unwrap_or_default();
    let (kind, length) = match base {
        "bool" | "boolean" => ("Bool", false),
        "tinyint" => ("TinyInt", false),
        "smallint" => ("SmallInt", false),
        "int" | "integer" | "mediumint" => ("Integer", false),
        "bigint" => ("BigInt", false),
        "float" => ("Float", false),
        "double" | "real" => ("Double", false),
        "decimal" | "numeric" | "dec" | "fixed" => ("Numeric", false),
        "varchar" => ("Varchar", true),
        "char" => ("Char", true),
        "text" | "tinytext" | "mediumtext" | "longtext" | "json" => ("Text", false),
        "blob" | "tinyblob" | "mediumblob" | "longblob" => ("Blob", false),
        "binary" => ("Binary", true),
        "varbinary" => ("Varbinary", true),
        "bit" => ("Bit", true),
        "date" => ("Date", false),
        "time" => ("Time", false),
        "datetime" | "timestamp" => ("Datetime", false),
        "year" => ("Year", false),
        "enum" => ("Enum", false),
        "set" => ("Set", false),
        other => return custom(other, native),
    };
    let mut ty = plain(kind, native);
    ty.unsigned = unsigned;
    if length {
        ty.max_length = parse_length(lower);
    }
    ty
}

/// The SQL that declares a diesel type on a backend (before `UNSIGNED` / `[]`).
fn render(name: &str, max_length: Option<u32>, backend: Backend) -> Option<String> {
    let with_length = |sql: &str, default: Option<u32>| match max_length.or(default) {
        Some(n) => format!("{sql}({n})"),
        None => sql.to_owned(),
    };
    Some(match backend {
        Backend::Sqlite => match name {
            "Bool" => "BOOLEAN".into(),
            "TinyInt" | "Tinyint" => "TINYINT".into(),
            "SmallInt" | "Smallint" | "Int2" => "SMALLINT".into(),
            "Integer" | "Int4" => "INTEGER".into(),
            "BigInt" | "Bigint" | "Int8" => "BIGINT".into(),
            "Float" | "Float4" => "REAL".into(),
            "Double" | "Float8" | "Numeric" | "Decimal" => "DOUBLE".into(),
            "Text" | "VarChar" | "Varchar" | "Char" | "Tinytext" | "Mediumtext" | "Longtext"
            | "Json" | "Jsonb" | "Uuid" => match max_length {
                Some(n) => format!("VARCHAR({n})"),
                None => "TEXT".into(),
            },
            "Binary" | "Blob" | "Bytea" | "Tinyblob" | "Mediumblob" | "Longblob" | "Varbinary" => {
                "BLOB".into()
            }
            "Date" => "DATE".into(),
            "Time" => "TIME".into(),
            "Timestamp" | "Datetime" | "Timestamptz" | "TimestamptzSqlite" => "TIMESTAMP".into(),
            _ => return None,
        },
        Backend::Postgres => match name {
            "Bool" => "boolean".into(),
            "SmallInt" | "Smallint" | "Int2" => "smallint".into(),
            "Integer" | "Int4" => "integer".into(),
            "BigInt" | "Bigint" | "Int8" => "bigint".into(),
            "Float" | "Float4" => "real".into(),
            "Double" | "Float8" => "double precision".into(),
            "Numeric" | "Decimal" => "numeric".into(),
            "Text" | "Char" | "Tinytext" | "Mediumtext" | "Longtext" => match max_length {
                Some(n) => format!("varchar({n})"),
                None => "text".into(),
            },
            "VarChar" | "Varchar" => with_length("varchar", None),
            "Bpchar" => with_length("char", None),
            "Binary" | "Bytea" | "Blob" => "bytea".into(),
            "Date" => "date".into(),
            "Time" => "time".into(),
            "Timestamp" => "timestamp".into(),
            "Timestamptz" => "timestamptz".into(),
            "Interval" => "interval".into(),
            "Uuid" => "uuid".into(),
            "Json" => "json".into(),
            "Jsonb" => "jsonb".into(),
            "Money" => "money".into(),
            "Inet" => "inet".into(),
            "Cidr" => "cidr".into(),
            "MacAddr" | "Macaddr" => "macaddr".into(),
            "Oid" => "oid".into(),
            "Citext" => "citext".into(),
            "CChar" => "\"char\"".into(),
            _ => return None,
        },
        Backend::Mysql => match name {
            "Bool" => "TINYINT(1)".into(),
            "TinyInt" | "Tinyint" => "TINYINT".into(),
            "SmallInt" | "Smallint" | "Int2" => "SMALLINT".into(),
            "Integer" | "Int4" => "INT".into(),
            "BigInt" | "Bigint" | "Int8" => "BIGINT".into(),
            "Float" | "Float4" => "FLOAT".into(),
            "Double" | "Float8" => "DOUBLE".into(),
            "Numeric" | "Decimal" => "DECIMAL(65,30)".into(),
            "Text" | "Json" => match max_length {
                Some(n) => format!("VARCHAR({n})"),
                None => "TEXT".into(),
            },
            "Tinytext" => "TINYTEXT".into(),
            "Mediumtext" => "MEDIUMTEXT".into(),
            "Longtext" => "LONGTEXT".into(),
            "VarChar" | "Varchar" => with_length("VARCHAR", Some(255)),
            "Char" => with_length("CHAR", Some(1)),
            "Binary" => match max_length {
                Some(n) => format!("BINARY({n})"),
                None => "BLOB".into(),
            },
            "Varbinary" => with_length("VARBINARY", Some(255)),
            "Blob" => "BLOB".into(),
            "Tinyblob" => "TINYBLOB".into(),
            "Mediumblob" => "MEDIUMBLOB".into(),
            "Longblob" => "LONGBLOB".into(),
            "Bit" => with_length("BIT", Some(1)),
            "Date" => "DATE".into(),
            "Time" => "TIME".into(),
            "Datetime" | "Timestamp" => "DATETIME".into(),
            _ => return None,
        },
    })
}

fn render_custom(sql_name: &str, backend: Backend) -> String {
    match backend {
        Backend::Postgres => sql_name.to_owned(),
        // A MySQL enum's labels are not in schema.rs; `Enum` marks the kind.
        Backend::Mysql => sql_name.to_ascii_lowercase(),
        Backend::Sqlite => sql_name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(catalog: &str, diesel: &str, max_length: Option<u32>, backend: Backend) -> bool {
        let db = SqlType::from_catalog(catalog, backend);
        let model = SqlType::from_diesel(diesel, None, max_length, false, false, backend).unwrap();
        db.satisfies(&model)
    }

    #[test]
    fn print_schema_types_compare_equal() {
        use Backend::*;
        for (catalog, diesel, len) in [
            ("INTEGER", "Integer", None),
            ("BIGINT", "BigInt", None),
            ("VARCHAR(40)", "Text", None),
            ("BOOLEAN", "Bool", None),
            ("DATETIME", "Timestamp", None),
            ("DECIMAL(10,2)", "Double", None),
            ("REAL", "Float", None),
            ("BLOB", "Binary", None),
            ("", "Binary", None),
        ] {
            assert!(
                same(catalog, diesel, len, Sqlite),
                "sqlite {catalog} ~ {diesel}"
            );
        }
        for (catalog, diesel, len) in [
            ("integer", "Int4", None),
            ("bigint", "Int8", None),
            ("smallint", "Int2", None),
            ("character varying(40)", "Varchar", Some(40)),
            ("character(3)", "Bpchar", Some(3)),
            ("timestamp without time zone", "Timestamp", None),
            ("timestamp(3) with time zone", "Timestamptz", None),
            ("numeric(10,2)", "Numeric", None),
            ("double precision", "Float8", None),
            ("real", "Float4", None),
            ("boolean", "Bool", None),
            ("bytea", "Bytea", None),
            ("jsonb", "Jsonb", None),
            ("uuid", "Uuid", None),
            ("interval", "Interval", None),
        ] {
            assert!(
                same(catalog, diesel, len, Postgres),
                "pg {catalog} ~ {diesel}"
            );
        }
        for (catalog, diesel, len) in [
            ("int(11)", "Integer", None),
            ("bigint(20)", "Bigint", None),
            ("tinyint(1)", "Bool", None),
            ("tinyint(4)", "Tinyint", None),
            ("varchar(255)", "Varchar", Some(255)),
            ("datetime(6)", "Datetime", None),
            ("datetime", "Timestamp", None),
            ("decimal(10,2)", "Decimal", None),
            ("longtext", "Longtext", None),
            ("longtext", "Json", None),
            ("blob", "Blob", None),
            ("double", "Double", None),
        ] {
            assert!(
                same(catalog, diesel, len, Mysql),
                "mysql {catalog} ~ {diesel}"
            );
        }
        let unsigned = SqlType::from_diesel("Integer", None, None, true, false, Mysql).unwrap();
        assert!(SqlType::from_catalog("int(10) unsigned", Mysql).satisfies(&unsigned));
        let array = SqlType::from_diesel("Int4", None, None, false, true, Postgres).unwrap();
        assert!(SqlType::from_catalog("integer[]", Postgres).satisfies(&array));
        let mood =
            SqlType::from_diesel("Mood", Some("mood"), None, false, false, Postgres).unwrap();
        assert!(SqlType::from_catalog("mood", Postgres).satisfies(&mood));
    }

    #[test]
    fn differences_and_narrowing() {
        let db = SqlType::from_catalog("character varying(40)", Backend::Postgres);
        let wider =
            SqlType::from_diesel("Varchar", None, Some(100), false, false, Backend::Postgres)
                .unwrap();
        assert!(!db.satisfies(&wider));
        assert!(!db.narrows_to(&wider));
        assert!(wider.narrows_to(&db));
        let int = SqlType::from_catalog("integer", Backend::Postgres);
        let big = SqlType::from_catalog("bigint", Backend::Postgres);
        assert!(!int.narrows_to(&big) && big.narrows_to(&int));
        assert!(SqlType::from_diesel("Int4", None, None, true, false, Backend::Postgres).is_err());
    }

    #[test]
    fn how_diesel_sees_types() {
        use Backend::*;
        let model = |name: &str, len: Option<u32>, backend: Backend| {
            SqlType::from_diesel(name, None, len, false, false, backend).unwrap()
        };
        // `Text` (and text names without a length) match any text column.
        for catalog in ["character varying(40)", "character(3)", "text", "varchar"] {
            let db = SqlType::from_catalog(catalog, Postgres);
            assert!(db.satisfies(&model("Text", None, Postgres)), "{catalog}");
            assert!(db.satisfies(&model("Varchar", None, Postgres)), "{catalog}");
        }
        for catalog in ["varchar(255)", "char(3)", "text", "longtext"] {
            let db = SqlType::from_catalog(catalog, Mysql);
            assert!(db.satisfies(&model("Text", None, Mysql)), "{catalog}");
        }
        let db = SqlType::from_catalog("character varying(40)", Postgres);
        assert!(!db.satisfies(&model("Varchar", Some(41), Postgres)));
        assert!(!db.satisfies(&model("Int4", None, Postgres)));
        let array = SqlType::from_catalog("character varying(40)[]", Postgres);
        let text_array = SqlType::from_diesel("Text", None, None, false, true, Postgres).unwrap();
        assert!(!array.satisfies(&text_array));
        // Types diesel has no name for compare by print-schema's spelling, qualified or not.
        for (catalog, diesel) in [
            ("tsvector", "Tsvector"),
            ("ltree", "Ltree"),
            ("public.hstore", "Hstore"),
            ("geometry(Point,4326)", "Geometry"),
            ("extensions.citext", "Citext"),
            ("my_type", "MyType"),
            ("\"MyType\"", "MyType"),
        ] {
            let db = SqlType::from_catalog(catalog, Postgres);
            assert!(
                db.satisfies(&model(diesel, None, Postgres)),
                "{catalog} ~ {diesel}"
            );
        }
        assert_eq!(model("Tsvector", None, Postgres).native, "tsvector");
        let qualified = SqlType::from_diesel(
            "Tsvector",
            Some("pg_catalog.tsvector"),
            None,
            false,
            false,
            Postgres,
        )
        .unwrap();
        assert!(SqlType::from_catalog("tsvector", Postgres).satisfies(&qualified));
        let mood =
            SqlType::from_diesel("Mood", Some("app.mood"), None, false, true, Postgres).unwrap();
        assert!(SqlType::from_catalog("app.mood[]", Postgres).satisfies(&mood));
        // A domain is its base type, or its own name.
        let domain = SqlType::from_domain("email", "character varying(200)", Postgres);
        assert!(domain.satisfies(&model("Varchar", Some(200), Postgres)));
        assert!(domain.satisfies(&model("Email", None, Postgres)));
        assert_eq!(domain.native, "email");
    }
}
