//! PostgreSQL: the standard spelling (the trait's defaults), transactional DDL and a
//! session advisory lock.

use super::Dialect;
use crate::backend::Backend;

/// PostgreSQL: transactional DDL and a session advisory lock.
pub struct PostgresDialect;

impl Dialect for PostgresDialect {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn server_version_query(&self) -> &'static str {
        "SELECT current_setting('server_version') AS value"
    }

    fn acquire_lock(&self, name: &str) -> Option<String> {
        Some(format!(
            "SELECT pg_advisory_lock(hashtext({}))",
            self.quote_literal(name)
        ))
    }

    fn release_lock(&self, name: &str) -> Option<String> {
        Some(format!(
            "SELECT pg_advisory_unlock(hashtext({}))",
            self.quote_literal(name)
        ))
    }

    fn list_tables_query(&self) -> &'static str {
        "SELECT table_name::text AS value FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
    }
}
