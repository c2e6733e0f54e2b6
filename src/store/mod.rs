//! The database: SQLite (default) or PostgreSQL behind one diesel connection type.
//!
//! Every query is written once against [`DbConnection`]; only connection set-up and
//! migrations know which backend is underneath.

pub mod activities;
pub mod api_keys;
pub mod areas;
pub mod assets;
pub mod audit;
pub mod imports;
pub mod models;
pub mod postcodes;
pub mod reviews;
pub mod schema;
pub mod sources;
pub mod suggestions;
pub mod users;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::path::Path;
use std::time::Duration;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection type for both backends (diesel's `MultiConnection`).
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Errors from the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// A conditional write found another version: someone else changed the record.
    #[error("the asset is at version {current}")]
    VersionMismatch { current: i64 },
}

impl From<r2d2::PoolError> for StoreError {
    fn from(e: r2d2::PoolError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// Which backend a `DATABASE_URL` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres(String),
    Sqlite(String),
}

impl Backend {
    /// `postgres://` or `postgresql://` is PostgreSQL; anything else is a SQLite file path.
    pub fn from_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(url.to_string())
        } else {
            Backend::Sqlite(url.strip_prefix("sqlite://").unwrap_or(url).to_string())
        }
    }

    /// A description safe to log: no password.
    pub fn redacted(&self) -> String {
        match self {
            Backend::Sqlite(path) => format!("SQLite file {path}"),
            Backend::Postgres(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
                let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
                format!("PostgreSQL {scheme}://{host}")
            }
        }
    }
}

/// Opens connections of the configured backend and sets SQLite's pragmas on each, or
/// on PostgreSQL this process's origin (see [`Store::origin`]).
#[derive(Clone, Debug)]
pub struct Manager {
    backend: Backend,
    origin: String,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.backend {
            Backend::Postgres(url) => {
                let mut c = PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                c.batch_execute(&format!("SET {ORIGIN_SETTING} = '{}'", self.origin))
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Pg(c))
            }
            Backend::Sqlite(path) => {
                let mut c =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the writer; FULL sync makes a commit durable
                // before it is acknowledged; the busy timeout queues writers instead of failing.
                c.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(c))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// A pool of connections to the source of truth.
#[derive(Clone)]
pub struct Store {
    pool: Pool<Manager>,
    backend: Backend,
    origin: String,
}

impl Store {
    /// Connects, creating the SQLite file's folder if needed, and runs pending migrations.
    /// One idle connection is kept ready.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, 1)
    }

    /// Like [`Store::open`], for a command that runs and exits: no connection is opened in
    /// the background. (The pool replaces a connection taken from it on a thread of its
    /// own; one still connecting to PostgreSQL when the process exits can crash it.)
    pub fn open_for_command(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, 0)
    }

    fn open_with(url: &str, min_idle: u32) -> Result<Self, StoreError> {
        let backend = Backend::from_url(url);
        if let Backend::Sqlite(path) = &backend {
            if let Some(dir) = Path::new(path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
        let origin = uuid::Uuid::new_v4().simple().to_string();
        let size = match backend {
            Backend::Postgres(_) => 8,
            Backend::Sqlite(_) => 4,
        };
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(min_idle))
            .connection_timeout(Duration::from_secs(5))
            .test_on_check_out(true)
            .build(Manager {
                backend: backend.clone(),
                origin: origin.clone(),
            })
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let store = Store {
            pool,
            backend,
            origin,
        };
        store.migrate()?;
        Ok(store)
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// A random name of this process, the payload of the notifications its writes send
    /// on PostgreSQL ([`CHANGES_CHANNEL`]).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn conn(&self) -> Result<PooledConnection<Manager>, StoreError> {
        Ok(self.pool.get()?)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let err =
            |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
        match &mut *conn {
            DbConnection::Pg(c) => {
                // Several instances may start at once: one migrates, the others wait.
                c.batch_execute("SELECT pg_advisory_lock(726101)")?;
                let r = c
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|_| ())
                    .map_err(err);
                c.batch_execute("SELECT pg_advisory_unlock(726101)")?;
                r
            }
            DbConnection::Sqlite(c) => c
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map(|_| ())
                .map_err(err),
        }
    }

    /// Whether the database answers a trivial query now. Waits at most 2 s for a
    /// connection, so a readiness probe answers quickly when the database is down.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.pool
            .get_timeout(Duration::from_secs(2))?
            .batch_execute("SELECT 1")?;
        Ok(())
    }
}

/// Copies a SQLite database to `to` with `VACUUM INTO`: online (writers wait only for the
/// copy's read transaction) and consistent. The target must not exist, so a backup never
/// overwrites another one.
pub fn backup(store: &Store, to: &Path) -> Result<(), StoreError> {
    if to.exists() {
        return Err(StoreError::Invalid(format!(
            "{} already exists; choose a new file",
            to.display()
        )));
    }
    let mut conn = store.conn()?;
    match &mut *conn {
        DbConnection::Pg(_) => Err(StoreError::Invalid(
            "backup is for SQLite; back up PostgreSQL with pg_dump (see the README)".into(),
        )),
        DbConnection::Sqlite(c) => {
            let target = to.to_string_lossy().replace('\'', "''");
            c.batch_execute(&format!("VACUUM INTO '{target}'"))?;
            Ok(())
        }
    }
}

/// On SQLite, reads the file through a memory map (`on`), or through `pread` again. A whole
/// build reads every page of the assets, and the map saves copying each into SQLite's page
/// cache; off again after it, so that the mapped file does not count in the resident size.
pub fn map_file(conn: &mut DbConnection, on: bool) -> Result<(), StoreError> {
    if let DbConnection::Sqlite(_) = conn {
        let size: u64 = if on { 1 << 40 } else { 0 };
        conn.batch_execute(&format!("PRAGMA mmap_size = {size}"))?;
    }
    Ok(())
}

/// Runs `f` in a transaction that sees one consistent state of the database, even across
/// several statements (PostgreSQL defaults to READ COMMITTED, which would not).
pub fn consistent_read<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.transaction(|c| {
        if let DbConnection::Pg(_) = c {
            c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(c)
    })
}

/// The current time at the precision the database keeps (microseconds), so that what a
/// write returns and records equals what a later read gives.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(chrono::Utc::now().timestamp_micros())
        .unwrap_or_default()
}

/// The data version a write transaction bumped to. Every asset row the transaction writes
/// carries it (`assets.change_seq`), and so does every asset whose source records it
/// links or unlinks, so that an instance holding version N reads only the rows with
/// `change_seq > N` ([`assets::changes_since`]). Only [`bump_version`] makes one: a
/// write cannot set an asset row without having bumped the version first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeSeq(i64, i64);

impl ChangeSeq {
    /// The data version the write reached.
    pub fn version(self) -> i64 {
        self.0
    }

    /// The random tag the write left on its version ([`version_tag`]).
    pub fn tag(self) -> i64 {
        self.1
    }
}

/// The PostgreSQL channel on which writes announce a new data version (the listener of
/// every instance wakes its refresher; see `state`).
pub const CHANGES_CHANNEL: &str = "community_assets_changes";

/// The session setting in which a PostgreSQL connection holds its process's origin, the
/// payload of its notifications: an instance skips its own, already applied.
const ORIGIN_SETTING: &str = "community_assets.origin";

/// Marks the data as changed, so every instance refreshes its snapshot, and returns the
/// new version. Called before a write transaction writes any other row, and on SQLite
/// first of all: there a write as the first statement takes the write lock at once, so
/// concurrent writers queue on the busy timeout instead of failing. The row stays locked
/// until the commit, so versions commit in order (a reader that sees version V sees every
/// row of a change_seq <= V). On PostgreSQL the transaction also NOTIFYs the other
/// instances (delivered at commit, dropped on rollback). Each version gets a random tag
/// ([`version_tag`]).
pub(crate) fn bump_version(conn: &mut DbConnection) -> Result<ChangeSeq, StoreError> {
    if let DbConnection::Pg(_) = conn {
        // Queued until the commit; first, so that the version row is locked for as
        // few statements as possible. The payload names this process (see `Manager`).
        conn.batch_execute(&format!(
            "SELECT pg_notify('{CHANGES_CHANNEL}', current_setting('{ORIGIN_SETTING}', true))"
        ))?;
    }
    let v: i64 = diesel::update(schema::data_version::table)
        .set(schema::data_version::version.eq(schema::data_version::version + 1))
        .returning(schema::data_version::version)
        .get_result(conn)?;
    let tag = uuid::Uuid::new_v4().as_u64_pair().0 as i64;
    // Tags of this version or later belong to a history the database no longer has (a
    // restore of the data without this table).
    diesel::delete(schema::change_log::table.filter(schema::change_log::seq.ge(v)))
        .execute(conn)?;
    diesel::insert_into(schema::change_log::table)
        .values((
            schema::change_log::seq.eq(v),
            schema::change_log::tag.eq(tag),
        ))
        .execute(conn)?;
    if v % 1024 == 0 {
        // An instance further behind than this rebuilds (its version has no tag left).
        diesel::delete(schema::change_log::table.filter(schema::change_log::seq.lt(v - 100_000)))
            .execute(conn)?;
    }
    Ok(ChangeSeq(v, tag))
}

/// Takes the write lock at once, for a write transaction that reads before its first
/// write (an activity is checked against the vocabularies first). On SQLite such a
/// transaction fails with "database is locked" if another write commits in between,
/// instead of queueing on the busy timeout; a write that changes nothing avoids that.
pub fn lock_for_write(conn: &mut DbConnection) -> Result<(), StoreError> {
    diesel::update(schema::data_version::table)
        .set(schema::data_version::version.eq(schema::data_version::version))
        .execute(conn)?;
    Ok(())
}

/// The random tag the write that reached `version` left; `None` for a version from
/// before tags were kept, or one too old to be kept. Two databases at one version with
/// different tags have different histories (a restore, then new writes).
pub fn version_tag(conn: &mut DbConnection, version: i64) -> Result<Option<i64>, StoreError> {
    Ok(schema::change_log::table
        .find(version)
        .select(schema::change_log::tag)
        .first(conn)
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_url() {
        assert_eq!(
            Backend::from_url("postgres://u@h/db"),
            Backend::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(
            Backend::from_url("./x.sqlite3"),
            Backend::Sqlite("./x.sqlite3".into())
        );
        assert_eq!(
            Backend::from_url("sqlite:///tmp/x"),
            Backend::Sqlite("/tmp/x".into())
        );
        assert_eq!(
            Backend::from_url("postgresql://user:secret@db:5432/x").redacted(),
            "PostgreSQL postgresql://db:5432/x"
        );
    }
}
