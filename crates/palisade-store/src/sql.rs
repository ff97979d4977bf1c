//! A statement built from fixed fragments and bound values, with each back end's placeholders:
//! `$1`, `$2`, … for PostgreSQL, `?` for SQLite. (sqlx's SQLite driver would bind `$N` by its
//! number too, but it looks every named parameter up with `sqlite3_bind_parameter_name`, a
//! linear scan: binding a 30,000-value `INSERT` took minutes. sqlx's `QueryBuilder<Any>`
//! writes `?`, which PostgreSQL refuses.) So every placeholder is used once, in the order
//! values are bound.
//!
//! Only fragments written in this crate enter the text; every value is bound.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Arguments, AssertSqlSafe, Encode, Executor, Type};

use crate::dialect::Backend;
use crate::error::Result;

/// A statement under construction.
pub(crate) struct Sql {
    text: String,
    args: AnyArguments,
    backend: Backend,
}

impl Sql {
    /// Starts with `text`, for `backend`.
    pub(crate) fn new(backend: Backend, text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            args: AnyArguments::default(),
            backend,
        }
    }

    /// Appends a fixed fragment.
    pub(crate) fn push(&mut self, fragment: &str) -> &mut Sql {
        self.text.push_str(fragment);
        self
    }

    /// Binds `value` and appends its placeholder.
    pub(crate) fn bind<'t, T>(&mut self, value: T) -> &mut Sql
    where
        T: Encode<'t, Any> + Type<Any> + 't,
    {
        self.add(value);
        self.push_placeholder();
        self
    }

    /// Appends `fragment` and binds `value` after it, when there is a value (an optional
    /// filter: `" AND f.cluster = "`).
    pub(crate) fn filter<'t, T>(&mut self, fragment: &str, value: Option<T>) -> &mut Sql
    where
        T: Encode<'t, Any> + Type<Any> + 't,
    {
        if let Some(value) = value {
            self.push(fragment).bind(value);
        }
        self
    }

    /// Binds `value` and returns its placeholder without appending it (for a value used in a
    /// fragment the caller formats and appends next, before binding anything else).
    pub(crate) fn arg<'t, T>(&mut self, value: T) -> String
    where
        T: Encode<'t, Any> + Type<Any> + 't,
    {
        self.add(value);
        match self.backend {
            Backend::Sqlite => "?".to_string(),
            Backend::Postgres => format!("${}", self.args.len()),
        }
    }

    /// Binds `value` without writing its placeholder.
    fn add<'t, T>(&mut self, value: T)
    where
        T: Encode<'t, Any> + Type<Any> + 't,
    {
        // Encoding into AnyArguments only copies the value; it cannot fail for the plain types
        // (integers, text, options) this crate binds.
        self.args
            .add(value)
            .expect("binding a plain value to AnyArguments");
    }

    /// Appends the placeholder of the value bound last, without allocating (a multi-row
    /// `INSERT` of a snapshot binds millions of values).
    fn push_placeholder(&mut self) {
        match self.backend {
            Backend::Sqlite => self.text.push('?'),
            Backend::Postgres => {
                use std::fmt::Write;
                // Writing to a String cannot fail.
                let _ = write!(self.text, "${}", self.args.len());
            }
        }
    }

    /// Makes room for `values` more bound values and `text` more bytes of text.
    fn reserve(&mut self, values: usize, text: usize) {
        self.args.reserve(values, 0);
        self.text.reserve(text);
    }

    fn into_query(self) -> Query<'static, Any, AnyArguments> {
        sqlx::query_with(AssertSqlSafe(self.text), self.args)
    }

    /// Runs it; returns the rows affected.
    pub(crate) async fn execute<'c, E>(self, executor: E) -> Result<u64>
    where
        E: Executor<'c, Database = Any>,
    {
        Ok(self.into_query().execute(executor).await?.rows_affected())
    }

    /// Runs it; returns every row.
    pub(crate) async fn fetch_all<'c, E>(self, executor: E) -> Result<Vec<AnyRow>>
    where
        E: Executor<'c, Database = Any>,
    {
        Ok(self.into_query().fetch_all(executor).await?)
    }

    /// Runs it; returns every row made a `T` by `each`.
    pub(crate) async fn fetch_each<'c, E, T>(
        self,
        executor: E,
        each: impl Fn(&AnyRow) -> Result<T>,
    ) -> Result<Vec<T>>
    where
        E: Executor<'c, Database = Any>,
    {
        self.fetch_all(executor).await?.iter().map(each).collect()
    }

    /// Runs it; returns the first row, if any.
    pub(crate) async fn fetch_optional<'c, E>(self, executor: E) -> Result<Option<AnyRow>>
    where
        E: Executor<'c, Database = Any>,
    {
        Ok(self.into_query().fetch_optional(executor).await?)
    }
}

/// Most values one statement binds: under SQLite's 32,766 and PostgreSQL's 65,535.
pub(crate) const MAX_BINDS: usize = 30_000;

/// Rows per multi-row `INSERT` for rows of `columns` values.
pub(crate) fn rows_per_insert(columns: usize) -> usize {
    (MAX_BINDS / columns.max(1)).max(1)
}

/// One row of a multi-row `INSERT`: binds its values between parentheses.
pub(crate) struct Row<'a> {
    sql: &'a mut Sql,
    first: bool,
}

impl Row<'_> {
    /// Binds the next column's value.
    pub(crate) fn v<'t, T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'t, Any> + Type<Any> + 't,
    {
        if !self.first {
            self.sql.push(",");
        }
        self.first = false;
        self.sql.bind(value);
        self
    }
}

/// Inserts `rows` with as few statements as the bind limits allow: `head` is
/// `INSERT INTO t (a, b, c) VALUES `, `tail` what follows the values (`ON CONFLICT …` or
/// empty), `columns` the values each row binds through `bind`. Returns the rows affected.
///
/// Each statement is built while the database runs the one before (the build is this
/// process's CPU, the execution the database's — a PostgreSQL server or SQLite's worker
/// thread): one after the other, a 200,000-finding push kept each side idle half the time.
pub(crate) async fn insert_rows<T, F>(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    head: &str,
    tail: &str,
    columns: usize,
    rows: &[T],
    mut bind: F,
) -> Result<u64>
where
    F: FnMut(&mut Row<'_>, &T),
{
    let mut chunks = rows.chunks(rows_per_insert(columns));
    let Some(first) = chunks.next() else {
        return Ok(0);
    };
    let mut build = |chunk: &[T]| {
        let mut sql = Sql::new(backend, head);
        // Each value's placeholder and comma: 2 bytes (`?,`) on SQLite, up to 7 (`$30000,`)
        // on PostgreSQL; the row's parentheses and comma.
        let per_value = if backend == Backend::Sqlite { 2 } else { 7 };
        sql.reserve(
            chunk.len() * columns,
            chunk.len() * (columns * per_value + 3) + tail.len(),
        );
        for (i, item) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ",(" });
            bind(
                &mut Row {
                    sql: &mut sql,
                    first: true,
                },
                item,
            );
            sql.push(")");
        }
        sql.push(tail);
        sql
    };
    let mut current = build(first);
    let mut affected = 0;
    for chunk in chunks {
        // `biased`: the statement is sent first (its future's first poll), then the next one
        // is built while the database works.
        let (done, next) =
            tokio::join!(biased; current.execute(&mut *conn), async { build(chunk) });
        affected += done?;
        current = next;
    }
    affected += current.execute(&mut *conn).await?;
    Ok(affected)
}
