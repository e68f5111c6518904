//! Row estimates for the tables findings are about, in one batched query per backend:
//! PostgreSQL `pg_class.reltuples` (the planner's estimate, `n_live_tup` before the first
//! ANALYZE), MySQL/MariaDB `information_schema.tables.table_rows`, SQLite `sqlite_stat1`
//! when ANALYZE has run and `count(*)` otherwise (after one query that finds which of the
//! tables exist, since a revision not applied yet may name tables that do not).
//!
//! These catalog queries belong with the per-backend catalog code; they live here until
//! the dialect offers them.

use std::collections::HashMap;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::facts::Relation;
use crate::backend::Backend;
use crate::db::Connection;

/// One table's estimate.
#[derive(QueryableByName, Debug)]
struct Estimate {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    row_count: Option<i64>,
}

/// Estimated rows by table key ([`Relation::key`]); tables the database lacks are absent.
pub fn estimate(
    conn: &mut Connection,
    tables: &[Relation],
) -> Result<HashMap<String, u64>, diesel::result::Error> {
    if tables.is_empty() {
        return Ok(HashMap::new());
    }
    let dialect = conn.dialect();
    let literal = |text: &str| dialect.quote_literal(text);
    let rows: Vec<Estimate> = match conn.backend() {
        Backend::Postgres => {
            let values: Vec<String> = tables
                .iter()
                .map(|t| {
                    format!(
                        "({}, {})",
                        literal(&t.name),
                        t.schema.as_deref().map_or("NULL".to_owned(), literal)
                    )
                })
                .collect();
            conn.load(&format!(
                "SELECT t.name AS table_name, \
                        CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE c.live END AS row_count \
                 FROM (VALUES {}) AS t(name, nspname) \
                 JOIN LATERAL ( \
                     SELECT pc.reltuples, s.n_live_tup AS live \
                     FROM pg_catalog.pg_class pc \
                     JOIN pg_catalog.pg_namespace n ON n.oid = pc.relnamespace \
                     LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = pc.oid \
                     WHERE pc.relkind IN ('r', 'p', 'm') \
                       AND (pc.relname = t.name OR pc.relname = lower(t.name)) \
                       AND CASE WHEN t.nspname IS NULL THEN pg_catalog.pg_table_is_visible(pc.oid) \
                                ELSE n.nspname = t.nspname OR n.nspname = lower(t.nspname) END \
                     ORDER BY pc.relname = t.name DESC LIMIT 1 \
                 ) AS c ON true",
                values.join(", ")
            ))?
        }
        Backend::Mysql => {
            let wanted: Vec<String> = tables
                .iter()
                .map(|t| {
                    format!(
                        "(table_schema = {} AND table_name = {})",
                        t.schema.as_deref().map_or("DATABASE()".to_owned(), literal),
                        literal(&t.name)
                    )
                })
                .collect();
            conn.load(&format!(
                "SELECT table_name AS table_name, CAST(table_rows AS SIGNED) AS row_count \
                 FROM information_schema.tables WHERE {}",
                wanted.join(" OR ")
            ))?
        }
        Backend::Sqlite => {
            let names: Vec<String> = tables
                .iter()
                .map(|t| literal(&t.name.to_lowercase()))
                .collect();
            let present: Vec<Estimate> = conn.load(&format!(
                "SELECT name AS table_name, NULL AS row_count FROM sqlite_master \
                 WHERE type = 'table' AND (lower(name) IN ({}) OR name = 'sqlite_stat1')",
                names.join(", ")
            ))?;
            let analyzed = present.iter().any(|e| e.table_name == "sqlite_stat1");
            let counts: Vec<String> = present
                .iter()
                .filter(|e| e.table_name != "sqlite_stat1")
                .map(|e| {
                    let count = format!("(SELECT count(*) FROM {})", dialect.quote_ident(&e.table_name));
                    let value = if analyzed {
                        format!(
                            "COALESCE((SELECT MAX(CAST(stat AS INTEGER)) FROM sqlite_stat1 WHERE tbl = {}), {count})",
                            literal(&e.table_name)
                        )
                    } else {
                        count
                    };
                    format!("SELECT {} AS table_name, {value} AS row_count", literal(&e.table_name))
                })
                .collect();
            if counts.is_empty() {
                Vec::new()
            } else {
                conn.load(&counts.join(" UNION ALL "))?
            }
        }
    };
    Ok(rows
        .into_iter()
        .filter_map(|e| {
            let rows = u64::try_from(e.row_count?).ok()?;
            Some((e.table_name.to_lowercase(), rows))
        })
        .collect())
}

/// A row count as people say it: `850`, `12k`, `2.1M`.
pub fn approx(rows: u64) -> String {
    for (unit, suffix) in [(1e9, "B"), (1e6, "M"), (1e3, "k")] {
        let value = rows as f64 / unit;
        if value >= 1.0 {
            return if value < 10.0 {
                let text = format!("{value:.1}");
                format!("{}{suffix}", text.trim_end_matches(".0"))
            } else {
                format!("{value:.0}{suffix}")
            };
        }
    }
    rows.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approximations() {
        assert_eq!(approx(850), "850");
        assert_eq!(approx(1500), "1.5k");
        assert_eq!(approx(12_345), "12k");
        assert_eq!(approx(2_100_000), "2.1M");
        assert_eq!(approx(3_000_000_000), "3B");
    }
}
