//! The labels of the enum types `schema.rs` names, read from the crate's Rust enums mapped
//! to them: schema.rs says a column is of `sql_types::Mood`, never which values `Mood`
//! holds. Every `src/**/*.rs` file of the package is parsed with `syn` (a file that does
//! not parse is skipped: it tells nothing about labels), and two shapes are recognised:
//!
//! - `diesel-derive-enum`: an `enum` with `#[derive(DbEnum)]` and
//!   `#[ExistingTypePath = "crate::schema::sql_types::Mood"]` (or
//!   `#[db_enum(existing_type_path = "..")]`). Each variant is one label: its
//!   `#[db_rename = ".."]` (`#[db_enum(rename = "..")]`), else its name in the enum's
//!   `#[DbValueStyle = ".."]` (`#[db_enum(value_style = "..")]`), snake_case by default,
//!   as the crate does.
//! - A hand-written `impl ToSql<Mood, _> for T`: the string and byte-string literals of its
//!   `to_sql`, in order (`out.write_all(b"happy")`); without one, the literals an
//!   `impl FromSql<Mood, _>` matches on (`b"happy" => ..`).
//!
//! The type is matched by the last segment of its path (the `sql_types` struct's name).
//! Anything else (a `DbEnum` with its own mapping type, which schema.rs does not name)
//! leaves the labels unknown: never a guess.

use std::collections::BTreeMap;
use std::path::Path;

use heck::{
    ToKebabCase, ToLowerCamelCase, ToShoutyKebabCase, ToShoutySnakeCase, ToSnakeCase, ToTitleCase,
    ToTrainCase, ToUpperCamelCase,
};
use proc_macro2::{TokenStream, TokenTree};

/// The labels found for enum SQL types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnumLabels {
    /// By the Rust name of the SQL type (`Mood`, the `sql_types` struct).
    pub by_type: BTreeMap<String, Vec<String>>,
}

impl EnumLabels {
    /// The labels of the `sql_types` struct `rust_name`.
    pub fn get(&self, rust_name: &str) -> Option<&[String]> {
        self.by_type.get(rust_name).map(Vec::as_slice)
    }

    /// Reads every `.rs` file under `src_dir` (none when it does not exist).
    pub fn scan(src_dir: &Path) -> EnumLabels {
        let mut files = Vec::new();
        collect_rust_files(src_dir, &mut files);
        files.sort();
        let mut labels = EnumLabels::default();
        for file in files {
            if let Ok(text) = std::fs::read_to_string(&file) {
                labels.read(&text);
            }
        }
        labels
    }

    /// Reads one file's text (nothing when it does not parse).
    pub fn read(&mut self, text: &str) {
        if let Ok(parsed) = syn::parse_file(text) {
            let mut found = Found {
                text,
                ..Found::default()
            };
            found.items(&parsed.items);
            for (key, labels) in found.derived_types {
                self.by_type.entry(key).or_insert(labels);
            }
            // A derive is the crate's own mapping; hand-written impls only fill gaps, ToSql
            // before FromSql.
            for (key, labels) in found.to_sql.into_iter().chain(found.from_sql) {
                self.by_type.entry(key).or_insert(labels);
            }
        }
    }
}

/// What one file holds, by kind of evidence.
#[derive(Default)]
struct Found<'t> {
    /// The file's text (function bodies are read from it as tokens).
    text: &'t str,
    derived_types: Vec<(String, Vec<String>)>,
    to_sql: Vec<(String, Vec<String>)>,
    from_sql: Vec<(String, Vec<String>)>,
}

impl Found<'_> {
    fn items(&mut self, items: &[syn::Item]) {
        for item in items {
            match item {
                syn::Item::Enum(e) => self.derived(e),
                syn::Item::Impl(i) => self.hand_written(i),
                syn::Item::Mod(m) => {
                    if let Some((_, inner)) = &m.content {
                        self.items(inner);
                    }
                }
                _ => {}
            }
        }
    }

    /// A `#[derive(DbEnum)]` enum.
    fn derived(&mut self, item: &syn::ItemEnum) {
        let derives_db_enum = item.attrs.iter().any(|a| {
            a.path().is_ident("derive")
                && a.parse_args_with(
                    syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
                )
                .is_ok_and(|paths| {
                    paths
                        .iter()
                        .any(|p| p.segments.last().is_some_and(|s| s.ident == "DbEnum"))
                })
        });
        if !derives_db_enum {
            return;
        }
        let Some(existing) = setting(&item.attrs, "ExistingTypePath", "existing_type_path") else {
            return;
        };
        let style = setting(&item.attrs, "DbValueStyle", "value_style");
        let labels: Vec<String> = item
            .variants
            .iter()
            .map(|v| {
                setting(&v.attrs, "db_rename", "rename")
                    .unwrap_or_else(|| styled(&v.ident.to_string(), style.as_deref()))
            })
            .collect();
        let last = existing.rsplit("::").next().unwrap_or(&existing).trim();
        self.derived_types.push((last.to_owned(), labels));
    }

    /// A block's tokens, read again from the file's text.
    fn tokens_of(&self, block: &syn::Block) -> Option<TokenStream> {
        let start = block.brace_token.span.open().byte_range().start;
        let end = block.brace_token.span.close().byte_range().end;
        self.text.get(start..end)?.parse().ok()
    }

    /// `impl ToSql<Mood, _> for T` / `impl FromSql<Mood, _> for T`.
    fn hand_written(&mut self, item: &syn::ItemImpl) {
        let Some((_, trait_path, _)) = &item.trait_ else {
            return;
        };
        let Some(last) = trait_path.segments.last() else {
            return;
        };
        let to_sql = last.ident == "ToSql";
        if !to_sql && last.ident != "FromSql" {
            return;
        }
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return;
        };
        let Some(syn::GenericArgument::Type(syn::Type::Path(sql_type))) = args.args.first() else {
            return;
        };
        let Some(name) = sql_type.path.segments.last().map(|s| s.ident.to_string()) else {
            return;
        };
        let method = if to_sql { "to_sql" } else { "from_sql" };
        for inner in &item.items {
            if let syn::ImplItem::Fn(f) = inner
                && f.sig.ident == method
            {
                let Some(body) = self.tokens_of(&f.block) else {
                    continue;
                };
                let mut labels = Vec::new();
                literals(body, to_sql, &mut labels);
                let mut unique = Vec::new();
                for label in labels {
                    if !unique.contains(&label) {
                        unique.push(label);
                    }
                }
                if !unique.is_empty() {
                    let found = if to_sql {
                        &mut self.to_sql
                    } else {
                        &mut self.from_sql
                    };
                    found.push((name.clone(), unique));
                }
            }
        }
    }
}

/// The string and byte-string literals of `tokens`, in order; with `all` false only those
/// a match arm's pattern is (a literal followed by `=>`).
fn literals(tokens: TokenStream, all: bool, out: &mut Vec<String>) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Group(g) => literals(g.stream(), all, out),
            TokenTree::Literal(lit) => {
                let arm = matches!(
                    (trees.get(i + 1), trees.get(i + 2)),
                    (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                        if a.as_char() == '=' && b.as_char() == '>'
                );
                if !(all || arm) {
                    continue;
                }
                match syn::parse_str::<syn::Lit>(&lit.to_string()) {
                    Ok(syn::Lit::Str(s)) => out.push(s.value()),
                    Ok(syn::Lit::ByteStr(b)) => {
                        if let Ok(text) = String::from_utf8(b.value()) {
                            out.push(text);
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

/// A string setting in either spelling: `#[Name = ".."]` or `#[db_enum(key = "..")]`.
fn setting(attrs: &[syn::Attribute], name: &str, key: &str) -> Option<String> {
    for attr in attrs {
        if attr.path().is_ident(name)
            && let syn::Meta::NameValue(nv) = &attr.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            return Some(s.value());
        }
        if attr.path().is_ident("db_enum") {
            let mut found = None;
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident(key) {
                    let value: syn::LitStr = meta.value()?.parse()?;
                    found = Some(value.value());
                } else if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
                Ok(())
            });
            if found.is_some() {
                return found;
            }
        }
    }
    None
}

/// A variant's label in diesel-derive-enum's value style (snake_case when none is given).
fn styled(variant: &str, style: Option<&str>) -> String {
    match style.unwrap_or("snake_case") {
        "camelCase" => variant.to_lower_camel_case(),
        "kebab-case" => variant.to_kebab_case(),
        "PascalCase" => variant.to_upper_camel_case(),
        "SCREAMING_SNAKE_CASE" => variant.to_shouty_snake_case(),
        "SCREAMING-KEBAB-CASE" => variant.to_shouty_kebab_case(),
        "Title Case" => variant.to_title_case(),
        "Train-Case" => variant.to_train_case(),
        "UPPERCASE" => variant.to_uppercase(),
        "lowercase" => variant.to_lowercase(),
        "verbatim" => variant.to_owned(),
        _ => variant.to_snake_case(),
    }
}

/// Every `.rs` file under `dir`, depth first.
fn collect_rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derive_enum_shapes_and_hand_written_impls() {
        let mut labels = EnumLabels::default();
        labels.read(
            r#"
#[derive(Debug, diesel_derive_enum::DbEnum)]
#[ExistingTypePath = "crate::schema::sql_types::Mood"]
pub enum Mood {
    Sad,
    SoSo,
    #[db_rename = "over_the_moon"]
    Happy,
}

mod inner {
    #[derive(DbEnum)]
    #[db_enum(existing_type_path = "crate::schema::sql_types::PostsStatusEnum", value_style = "PascalCase")]
    pub enum Status {
        Draft,
        #[db_enum(rename = "live")]
        Published,
    }
}

#[derive(DbEnum)]
pub enum Colour { Red, DarkBlue }

pub struct Level;
impl ToSql<crate::schema::sql_types::Level, Pg> for Level {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        match *self {
            Level::Low => out.write_all(b"low")?,
            Level::High => out.write_all(b"high")?,
        }
        Ok(IsNull::No)
    }
}
impl FromSql<Weather, Pg> for W {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        match bytes.as_bytes() {
            b"sun" => Ok(W::Sun),
            b"rain" => Ok(W::Rain),
            _ => Err("Unrecognized enum variant".into()),
        }
    }
}
"#,
        );
        assert_eq!(
            labels.get("Mood").unwrap(),
            ["sad", "so_so", "over_the_moon"]
        );
        assert_eq!(labels.get("PostsStatusEnum").unwrap(), ["Draft", "live"]);
        // A DbEnum with its own mapping type names no sql_types struct.
        assert!(labels.get("Colour").is_none());
        assert_eq!(labels.get("Level").unwrap(), ["low", "high"]);
        assert_eq!(labels.get("Weather").unwrap(), ["sun", "rain"]);
        assert!(labels.get("Other").is_none());
    }
}
