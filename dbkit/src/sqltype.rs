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
//! | pg | an enum type | `Custom(<Name>)` | a `sql_types` struct with `postgres_type(name = ..)` |
//! | mysql | enum('a',..) | `Enum` | a `sql_types` struct with `mysql_type(name = "Enum")` |
//! | pg | any other type (extensions' `citext`, `ltree`, `tsvector`, PostGIS…) | `Custom(<UpperCamel>)` | the same name from any crate (`import_types`), or a `sql_types` struct |
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

/// A type's canonical kind: the name `diesel print-schema` writes for it on the backend
/// (see the table above), or [`TypeKind::Custom`] for a type diesel has no name for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // Each variant is diesel's `sql_types` type of that name.
pub enum TypeKind {
    Bool,
    TinyInt,
    SmallInt,
    Int2,
    Integer,
    Int4,
    BigInt,
    Int8,
    Float,
    Float4,
    Double,
    Float8,
    Numeric,
    Text,
    Varchar,
    Char,
    Bpchar,
    CChar,
    Binary,
    Blob,
    Bytea,
    Varbinary,
    Bit,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Datetime,
    Year,
    Interval,
    Uuid,
    Json,
    Jsonb,
    Money,
    Inet,
    Cidr,
    Macaddr,
    Oid,
    Citext,
    Enum,
    Set,
    /// A type diesel has no name for: print-schema's spelling of its name
    /// (`UpperCamelCase`, no schema, no quotes: `ltree` is `Ltree`).
    Custom(String),
}

impl TypeKind {
    /// Whether the kind is of the text family, where a model's name without a length
    /// matches a column of any of them (diesel's `Varchar`, `Bpchar`, `Char` are aliases of
    /// `Text`).
    fn is_text(&self) -> bool {
        matches!(
            self,
            TypeKind::Text | TypeKind::Varchar | TypeKind::Bpchar | TypeKind::Char
        )
    }

    /// The kind's family and its width within it, for the kinds that widen into each other
    /// (integers, floats, text).
    fn rank(&self) -> Option<(u8, u8)> {
        use TypeKind::*;
        Some(match self {
            Bool => (0, 0),
            TinyInt => (0, 1),
            SmallInt | Int2 => (0, 2),
            Integer | Int4 => (0, 3),
            BigInt | Int8 => (0, 4),
            Float | Float4 => (1, 1),
            Double | Float8 => (1, 2),
            Char | Bpchar => (2, 1),
            Varchar => (2, 2),
            Text => (2, 3),
            _ => return None,
        })
    }
}

/// A column type: its canonical kind plus what diesel also tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlType {
    /// The canonical kind for the backend (see the table above).
    pub kind: TypeKind,
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
    pub alias_kind: Option<TypeKind>,
    /// The labels of a column-level enum: MySQL's `enum('a','b')` (both sides), SQLite's
    /// `CHECK (col IN (..))` (model side only, from the Rust enum; never compared).
    /// PostgreSQL enum labels belong to the type ([`crate::model::Schema::enums`]).
    pub labels: Option<Vec<String>>,
}

/// A column type as schema.rs writes it: `Nullable` taken off, the rest named.
#[derive(Debug, Clone, Copy, Default)]
pub struct DieselType<'a> {
    /// The `sql_types` name (`Int4`, `Varchar`, a `sql_types` struct's name).
    pub name: &'a str,
    /// For a `sql_types` struct: the SQL type it stands for (`postgres_type(name = ..)`,
    /// `schema.name` when it has a schema).
    pub sql_name: Option<&'a str>,
    /// `#[max_length = n]`.
    pub max_length: Option<u32>,
    /// Inside `Unsigned<..>` (MySQL).
    pub unsigned: bool,
    /// Inside `Array<..>` (PostgreSQL).
    pub array: bool,
    /// The labels of the Rust enum mapped to the `sql_types` struct, when one was found.
    pub labels: Option<&'a [String]>,
}

impl<'a> DieselType<'a> {
    /// The plain type `name`.
    pub fn named(name: &'a str) -> Self {
        DieselType {
            name,
            ..DieselType::default()
        }
    }
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

    /// A model type: a diesel `sql_types` name (`Int4`, `Varchar`, `Timestamptz`), or a
    /// custom type's SQL name. A name diesel does not define for the backend (a type from
    /// another crate, `import_types`) is compared by the database's type name, as
    /// print-schema spells it. Errors name what cannot exist.
    pub fn from_diesel(ty: &DieselType, backend: Backend) -> Result<SqlType, String> {
        let name = ty.name;
        let base = match ty.sql_name {
            Some(sql_name) => render_custom(sql_name, ty.labels, backend),
            None => render(name, ty.max_length, backend).unwrap_or_else(|| opaque_sql_name(name)),
        };
        let native = if ty.unsigned {
            if backend != Backend::Mysql {
                return Err(format!("`Unsigned<{name}>` exists only on MySQL"));
            }
            format!("{base} UNSIGNED")
        } else if ty.array {
            if backend != Backend::Postgres {
                return Err(format!("`Array<{name}>` exists only on PostgreSQL"));
            }
            format!("{base}[]")
        } else {
            base
        };
        let mut read = SqlType::from_catalog(&native, backend);
        // The length is what the model says (none: not compared), except for MySQL enums
        // and sets, whose "length" print-schema copies from the longest label.
        if !matches!(read.kind, TypeKind::Enum | TypeKind::Set) {
            read.max_length = ty.max_length;
        }
        if backend == Backend::Sqlite {
            read.labels = ty.labels.map(<[String]>::to_vec);
        }
        Ok(read)
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
            || self.alias_kind.as_ref() == Some(&model.kind)
            || (model.max_length.is_none()
                && !model.array
                && model.kind.is_text()
                && self.kind.is_text());
        let labels_agree = match (&self.labels, &model.labels) {
            (Some(have), Some(want)) => have == want,
            _ => true,
        };
        same_kind
            && self.unsigned == model.unsigned
            && self.array == model.array
            && (model.max_length.is_none() || self.max_length == model.max_length)
            && labels_agree
    }

    /// Whether it is a MySQL `ENUM` whose labels nobody knows (no Rust enum maps to its
    /// `sql_types` struct): what creates it needs the user's labels.
    pub fn is_unlabelled_enum(&self) -> bool {
        self.kind == TypeKind::Enum && self.labels.is_none()
    }

    /// Whether a MySQL `ENUM` changes only by labels added at the end (done in place).
    pub fn appends_labels_to(&self, to: &SqlType) -> bool {
        match (&self.labels, &to.labels) {
            (Some(from), Some(to_labels)) => {
                self.kind == to.kind && to_labels.len() >= from.len() && to_labels.starts_with(from)
            }
            _ => false,
        }
    }

    /// Whether changing from `self` to `to` can lose data (narrower or another kind).
    pub fn narrows_to(&self, to: &SqlType) -> bool {
        if self.array != to.array || (self.unsigned && !to.unsigned) {
            return true;
        }
        if let (Some(from), Some(to)) = (&self.labels, &to.labels) {
            if from.iter().any(|l| !to.contains(l)) {
                return true;
            }
        }
        if self.kind == to.kind {
            return match (self.max_length, to.max_length) {
                (Some(from), Some(to)) => to < from,
                (None, Some(_)) => true,
                _ => false,
            };
        }
        match (self.kind.rank(), to.kind.rank()) {
            (Some((family_a, a)), Some((family_b, b))) if family_a == family_b => b < a,
            _ => true,
        }
    }

    /// Whether it is a 32- or 64-bit integer (not an array of them): what an
    /// auto-incrementing key, and SQLite's implicit `rowid`, can be.
    pub fn is_int_or_bigint(&self) -> bool {
        matches!(
            self.kind,
            TypeKind::Integer | TypeKind::Int4 | TypeKind::BigInt | TypeKind::Int8
        ) && !self.array
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

fn plain(kind: TypeKind, native: String) -> SqlType {
    SqlType {
        kind,
        max_length: None,
        unsigned: false,
        array: false,
        native,
        alias_kind: None,
        labels: None,
    }
}

/// The labels of `enum('a','b')` / `set(..)` as MySQL writes them (`''` for a quote,
/// backslash escapes); `None` when the text is not such a list.
fn enum_labels(native: &str) -> Option<Vec<String>> {
    let open = native.find('(')?;
    let inner = native[open + 1..].strip_suffix(')')?.trim();
    let mut labels = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        if chars.next()? != '\'' {
            return None;
        }
        let mut label = String::new();
        loop {
            match chars.next()? {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    label.push('\'');
                }
                '\'' => break,
                '\\' => label.push(chars.next()?),
                c => label.push(c),
            }
        }
        labels.push(label);
        match chars.next() {
            None => return Some(labels),
            Some(',') => {}
            Some(_) => return None,
        }
    }
}

/// The kind of a type diesel has no name for: print-schema's spelling of its name
/// (`UpperCamelCase`), without schema qualification or quotes.
fn custom(name: &str, native: String) -> SqlType {
    plain(
        TypeKind::Custom(unqualified(name).to_upper_camel_case()),
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
            TypeKind::Bool
        } else if name == "int2" || (name.contains("small") && name.contains("int")) {
            TypeKind::SmallInt
        } else if name == "int8" || (name.contains("big") && name.contains("int")) {
            TypeKind::BigInt
        } else if name.contains("int") {
            TypeKind::Integer
        } else if name.contains("char") || name.contains("clob") || name.contains("text") {
            TypeKind::Text
        } else if name.contains("blob") || name.contains("binary") || name.is_empty() {
            TypeKind::Binary
        } else if name.contains("float") || name.contains("real") {
            TypeKind::Float
        } else if name.contains("double") || name.contains("num") || name.contains("dec") {
            TypeKind::Double
        } else if name == "datetime" || name == "timestamp" {
            TypeKind::Timestamp
        } else if name == "date" {
            TypeKind::Date
        } else if name == "time" {
            TypeKind::Time
        } else {
            return custom(base_name(name), native);
        };
    let is_text = kind == TypeKind::Text;
    let mut ty = plain(kind, native);
    if is_text {
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
        "integer" | "int" | "int4" | "serial" => TypeKind::Int4,
        "bigint" | "int8" | "bigserial" => TypeKind::Int8,
        "smallint" | "int2" | "smallserial" => TypeKind::Int2,
        "real" | "float4" => TypeKind::Float4,
        "double precision" | "float8" => TypeKind::Float8,
        "boolean" | "bool" => TypeKind::Bool,
        "text" => TypeKind::Text,
        "bytea" => TypeKind::Bytea,
        "date" => TypeKind::Date,
        "time" | "time without time zone" => TypeKind::Time,
        "timestamp" | "timestamp without time zone" => TypeKind::Timestamp,
        "timestamptz" | "timestamp with time zone" => TypeKind::Timestamptz,
        "interval" => TypeKind::Interval,
        "uuid" => TypeKind::Uuid,
        "json" => TypeKind::Json,
        "jsonb" => TypeKind::Jsonb,
        "money" => TypeKind::Money,
        "inet" => TypeKind::Inet,
        "cidr" => TypeKind::Cidr,
        "macaddr" => TypeKind::Macaddr,
        "oid" => TypeKind::Oid,
        "citext" => TypeKind::Citext,
        "\"char\"" => TypeKind::CChar,
        _ => match base {
            "numeric" | "decimal" => TypeKind::Numeric,
            "character varying" | "varchar" => {
                let mut ty = plain(TypeKind::Varchar, native);
                ty.max_length = parse_length(lower);
                return ty;
            }
            "character" | "char" | "bpchar" => {
                let mut ty = plain(TypeKind::Bpchar, native);
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

/// `schema.type(args)` → `type(args)`, quotes kept (`"app".TypeKind::Mood` → `TypeKind::Mood`).
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
        return plain(TypeKind::Bool, native);
    }
    let unsigned = lower.contains("unsigned");
    let base = base_name(lower)
        .split_whitespace()
        .next()
        .unwrap_or_default();
    let (kind, length) = match base {
        "bool" | "boolean" => (TypeKind::Bool, false),
        "tinyint" => (TypeKind::TinyInt, false),
        "smallint" => (TypeKind::SmallInt, false),
        "int" | "integer" | "mediumint" => (TypeKind::Integer, false),
        "bigint" => (TypeKind::BigInt, false),
        "float" => (TypeKind::Float, false),
        "double" | "real" => (TypeKind::Double, false),
        "decimal" | "numeric" | "dec" | "fixed" => (TypeKind::Numeric, false),
        "varchar" => (TypeKind::Varchar, true),
        "char" => (TypeKind::Char, true),
        "text" | "tinytext" | "mediumtext" | "longtext" | "json" => (TypeKind::Text, false),
        "blob" | "tinyblob" | "mediumblob" | "longblob" => (TypeKind::Blob, false),
        "binary" => (TypeKind::Binary, true),
        "varbinary" => (TypeKind::Varbinary, true),
        "bit" => (TypeKind::Bit, true),
        "date" => (TypeKind::Date, false),
        "time" => (TypeKind::Time, false),
        "datetime" | "timestamp" => (TypeKind::Datetime, false),
        "year" => (TypeKind::Year, false),
        "enum" => (TypeKind::Enum, false),
        "set" => (TypeKind::Set, false),
        other => return custom(other, native),
    };
    let mut ty = plain(kind, native);
    ty.unsigned = unsigned;
    if length {
        ty.max_length = parse_length(lower);
    }
    if matches!(ty.kind, TypeKind::Enum | TypeKind::Set) {
        ty.labels = enum_labels(ty.native.trim());
    }
    ty
}

/// How a diesel type is declared, given the model's `#[max_length]`.
#[derive(Debug, Clone, Copy)]
enum Spelling {
    /// Always the same.
    Fixed(&'static str),
    /// `sql(n)` with a length (the model's, else `default`), `sql` without one.
    Length(&'static str, Option<u32>),
    /// `sized(n)` with the model's length, `unsized` without one (text as `VARCHAR(n)`
    /// or `TEXT`).
    SizedOr(&'static str, &'static str),
}

use Spelling::{Fixed, Length, SizedOr};

/// The diesel names each backend declares, and how (before `UNSIGNED` / `[]`).
const SQLITE_TYPES: &[(&[&str], Spelling)] = &[
    (&["Bool"], Fixed("BOOLEAN")),
    (&["TinyInt", "Tinyint"], Fixed("TINYINT")),
    (&["SmallInt", "Smallint", "Int2"], Fixed("SMALLINT")),
    (&["Integer", "Int4"], Fixed("INTEGER")),
    (&["BigInt", "Bigint", "Int8"], Fixed("BIGINT")),
    (&["Float", "Float4"], Fixed("REAL")),
    (&["Double", "Float8", "Numeric", "Decimal"], Fixed("DOUBLE")),
    (
        &[
            "Text",
            "VarChar",
            "Varchar",
            "Char",
            "Tinytext",
            "Mediumtext",
            "Longtext",
            "Json",
            "Jsonb",
            "Uuid",
        ],
        SizedOr("VARCHAR", "TEXT"),
    ),
    (
        &[
            "Binary",
            "Blob",
            "Bytea",
            "Tinyblob",
            "Mediumblob",
            "Longblob",
            "Varbinary",
        ],
        Fixed("BLOB"),
    ),
    (&["Date"], Fixed("DATE")),
    (&["Time"], Fixed("TIME")),
    (
        &["Timestamp", "Datetime", "Timestamptz", "TimestamptzSqlite"],
        Fixed("TIMESTAMP"),
    ),
];

const POSTGRES_TYPES: &[(&[&str], Spelling)] = &[
    (&["Bool"], Fixed("boolean")),
    (&["SmallInt", "Smallint", "Int2"], Fixed("smallint")),
    (&["Integer", "Int4"], Fixed("integer")),
    (&["BigInt", "Bigint", "Int8"], Fixed("bigint")),
    (&["Float", "Float4"], Fixed("real")),
    (&["Double", "Float8"], Fixed("double precision")),
    (&["Numeric", "Decimal"], Fixed("numeric")),
    (
        &["Text", "Char", "Tinytext", "Mediumtext", "Longtext"],
        SizedOr("varchar", "text"),
    ),
    (&["VarChar", "Varchar"], Length("varchar", None)),
    (&["Bpchar"], Length("char", None)),
    (&["Binary", "Bytea", "Blob"], Fixed("bytea")),
    (&["Date"], Fixed("date")),
    (&["Time"], Fixed("time")),
    (&["Timestamp"], Fixed("timestamp")),
    (&["Timestamptz"], Fixed("timestamptz")),
    (&["Interval"], Fixed("interval")),
    (&["Uuid"], Fixed("uuid")),
    (&["Json"], Fixed("json")),
    (&["Jsonb"], Fixed("jsonb")),
    (&["Money"], Fixed("money")),
    (&["Inet"], Fixed("inet")),
    (&["Cidr"], Fixed("cidr")),
    (&["MacAddr", "Macaddr"], Fixed("macaddr")),
    (&["Oid"], Fixed("oid")),
    (&["Citext"], Fixed("citext")),
    (&["CChar"], Fixed("\"char\"")),
];

const MYSQL_TYPES: &[(&[&str], Spelling)] = &[
    (&["Bool"], Fixed("TINYINT(1)")),
    (&["TinyInt", "Tinyint"], Fixed("TINYINT")),
    (&["SmallInt", "Smallint", "Int2"], Fixed("SMALLINT")),
    (&["Integer", "Int4"], Fixed("INT")),
    (&["BigInt", "Bigint", "Int8"], Fixed("BIGINT")),
    (&["Float", "Float4"], Fixed("FLOAT")),
    (&["Double", "Float8"], Fixed("DOUBLE")),
    (&["Numeric", "Decimal"], Fixed("DECIMAL(65,30)")),
    (&["Text", "Json"], SizedOr("VARCHAR", "TEXT")),
    (&["Tinytext"], Fixed("TINYTEXT")),
    (&["Mediumtext"], Fixed("MEDIUMTEXT")),
    (&["Longtext"], Fixed("LONGTEXT")),
    (&["VarChar", "Varchar"], Length("VARCHAR", Some(255))),
    (&["Char"], Length("CHAR", Some(1))),
    (&["Binary"], SizedOr("BINARY", "BLOB")),
    (&["Varbinary"], Length("VARBINARY", Some(255))),
    (&["Blob"], Fixed("BLOB")),
    (&["Tinyblob"], Fixed("TINYBLOB")),
    (&["Mediumblob"], Fixed("MEDIUMBLOB")),
    (&["Longblob"], Fixed("LONGBLOB")),
    (&["Bit"], Length("BIT", Some(1))),
    (&["Date"], Fixed("DATE")),
    (&["Time"], Fixed("TIME")),
    (&["Datetime", "Timestamp"], Fixed("DATETIME")),
];

/// The SQL that declares a diesel type on a backend (before `UNSIGNED` / `[]`); `None`
/// for a name diesel does not define there.
fn render(name: &str, max_length: Option<u32>, backend: Backend) -> Option<String> {
    let table = match backend {
        Backend::Sqlite => SQLITE_TYPES,
        Backend::Postgres => POSTGRES_TYPES,
        Backend::Mysql => MYSQL_TYPES,
    };
    let (_, spelling) = table.iter().find(|(names, _)| names.contains(&name))?;
    Some(match *spelling {
        Fixed(sql) => sql.to_owned(),
        Length(sql, default) => match max_length.or(default) {
            Some(n) => format!("{sql}({n})"),
            None => sql.to_owned(),
        },
        SizedOr(sized, unsized_) => match max_length {
            Some(n) => format!("{sized}({n})"),
            None => unsized_.to_owned(),
        },
    })
}

/// The SQL of a `sql_types` struct's type: its name, or on MySQL an `Enum` with the labels
/// of the Rust enum mapped to it (schema.rs has none; without them, `enum` marks the kind).
fn render_custom(sql_name: &str, labels: Option<&[String]>, backend: Backend) -> String {
    match (backend, labels) {
        (Backend::Mysql, Some(labels)) if sql_name.eq_ignore_ascii_case("enum") => {
            let dialect = crate::dialect::dialect_for(backend);
            let quoted: Vec<String> = labels.iter().map(|l| dialect.quote_literal(l)).collect();
            format!("ENUM({})", quoted.join(","))
        }
        (Backend::Mysql, _) => sql_name.to_ascii_lowercase(),
        _ => sql_name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Backend::*;

    fn diesel(ty: DieselType, backend: Backend) -> SqlType {
        SqlType::from_diesel(&ty, backend).unwrap()
    }

    fn model(name: &str, max_length: Option<u32>, backend: Backend) -> SqlType {
        let ty = DieselType {
            max_length,
            ..DieselType::named(name)
        };
        diesel(ty, backend)
    }

    /// What print-schema writes for a catalog type: (backend, catalog, diesel, length).
    const PRINTED: &[(Backend, &str, &str, Option<u32>)] = &[
        (Sqlite, "INTEGER", "Integer", None),
        (Sqlite, "BIGINT", "BigInt", None),
        (Sqlite, "VARCHAR(40)", "Text", None),
        (Sqlite, "BOOLEAN", "Bool", None),
        (Sqlite, "DATETIME", "Timestamp", None),
        (Sqlite, "DECIMAL(10,2)", "Double", None),
        (Sqlite, "REAL", "Float", None),
        (Sqlite, "BLOB", "Binary", None),
        (Sqlite, "", "Binary", None),
        (Postgres, "integer", "Int4", None),
        (Postgres, "bigint", "Int8", None),
        (Postgres, "smallint", "Int2", None),
        (Postgres, "character varying(40)", "Varchar", Some(40)),
        (Postgres, "character(3)", "Bpchar", Some(3)),
        (Postgres, "timestamp without time zone", "Timestamp", None),
        (Postgres, "timestamp(3) with time zone", "Timestamptz", None),
        (Postgres, "numeric(10,2)", "Numeric", None),
        (Postgres, "double precision", "Float8", None),
        (Postgres, "real", "Float4", None),
        (Postgres, "boolean", "Bool", None),
        (Postgres, "bytea", "Bytea", None),
        (Postgres, "jsonb", "Jsonb", None),
        (Postgres, "uuid", "Uuid", None),
        (Postgres, "interval", "Interval", None),
        (Mysql, "int(11)", "Integer", None),
        (Mysql, "bigint(20)", "Bigint", None),
        (Mysql, "tinyint(1)", "Bool", None),
        (Mysql, "tinyint(4)", "Tinyint", None),
        (Mysql, "varchar(255)", "Varchar", Some(255)),
        (Mysql, "datetime(6)", "Datetime", None),
        (Mysql, "datetime", "Timestamp", None),
        (Mysql, "decimal(10,2)", "Decimal", None),
        (Mysql, "longtext", "Longtext", None),
        (Mysql, "longtext", "Json", None),
        (Mysql, "blob", "Blob", None),
        (Mysql, "double", "Double", None),
    ];

    #[test]
    fn print_schema_types_compare_equal() {
        for &(backend, catalog, diesel, len) in PRINTED {
            let db = SqlType::from_catalog(catalog, backend);
            assert!(
                db.satisfies(&model(diesel, len, backend)),
                "{backend:?} {catalog} ~ {diesel}"
            );
        }
        let unsigned = diesel(
            DieselType {
                unsigned: true,
                ..DieselType::named("Integer")
            },
            Mysql,
        );
        assert!(SqlType::from_catalog("int(10) unsigned", Mysql).satisfies(&unsigned));
        let array = diesel(
            DieselType {
                array: true,
                ..DieselType::named("Int4")
            },
            Postgres,
        );
        assert!(SqlType::from_catalog("integer[]", Postgres).satisfies(&array));
        let mood = diesel(
            DieselType {
                sql_name: Some("mood"),
                ..DieselType::named("Mood")
            },
            Postgres,
        );
        assert!(SqlType::from_catalog("mood", Postgres).satisfies(&mood));
    }

    #[test]
    fn differences_and_narrowing() {
        let db = SqlType::from_catalog("character varying(40)", Postgres);
        let wider = model("Varchar", Some(100), Postgres);
        assert!(!db.satisfies(&wider));
        assert!(!db.narrows_to(&wider));
        assert!(wider.narrows_to(&db));
        let int = SqlType::from_catalog("integer", Postgres);
        let big = SqlType::from_catalog("bigint", Postgres);
        assert!(!int.narrows_to(&big) && big.narrows_to(&int));
        let unsigned_on_pg = DieselType {
            unsigned: true,
            ..DieselType::named("Int4")
        };
        assert!(SqlType::from_diesel(&unsigned_on_pg, Postgres).is_err());
    }

    #[test]
    fn how_diesel_sees_types() {
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
        assert!(!array.satisfies(&diesel(
            DieselType {
                array: true,
                ..DieselType::named("Text")
            },
            Postgres,
        )));
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
        assert_eq!(
            model("Tsvector", None, Postgres).kind,
            TypeKind::Custom("Tsvector".into())
        );
        let qualified = diesel(
            DieselType {
                sql_name: Some("pg_catalog.tsvector"),
                ..DieselType::named("Tsvector")
            },
            Postgres,
        );
        assert!(SqlType::from_catalog("tsvector", Postgres).satisfies(&qualified));
        let mood = diesel(
            DieselType {
                sql_name: Some("app.mood"),
                array: true,
                ..DieselType::named("Mood")
            },
            Postgres,
        );
        assert!(SqlType::from_catalog("app.mood[]", Postgres).satisfies(&mood));
        // A domain is its base type, or its own name.
        let domain = SqlType::from_domain("email", "character varying(200)", Postgres);
        assert!(domain.satisfies(&model("Varchar", Some(200), Postgres)));
        assert!(domain.satisfies(&model("Email", None, Postgres)));
        assert_eq!(domain.native, "email");
    }
}
