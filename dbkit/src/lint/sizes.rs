//! Findings sized with the live database's row estimates: which tables the findings are
//! about, their estimates (`inspect::row_estimates`, one batched catalog query per
//! backend), and a count as people say it.

use std::collections::HashMap;

use super::facts::Relation;
use crate::db::Connection;
use crate::inspect::row_estimates;
use crate::model::TableName;

/// Estimated rows by table key ([`Relation::key`]); tables the database lacks are absent.
pub fn estimate(
    conn: &mut Connection,
    tables: &[Relation],
) -> Result<HashMap<String, u64>, diesel::result::Error> {
    let names: Vec<TableName> = tables
        .iter()
        .map(|t| TableName {
            schema: t.schema.clone(),
            name: t.name.clone(),
        })
        .collect();
    Ok(row_estimates(conn, &names)?
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
