//! The store's error type.

/// The result type of store calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database URL is not one the store understands.
    #[error(
        "unsupported database URL {0:?}: use sqlite://path/to/leadflow.db or postgres://user@host/db"
    )]
    Url(String),
    /// Connecting failed.
    #[error("cannot open the database ({backend}): {source}")]
    Connect {
        /// Which backend.
        backend: &'static str,
        /// Why.
        #[source]
        source: sqlx::Error,
    },
    /// Applying the schema failed.
    #[error("cannot apply the store's schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("store query failed ({what}): {source}")]
    Query {
        /// Which operation.
        what: &'static str,
        /// Why.
        #[source]
        source: sqlx::Error,
    },
    /// A query named a column the store does not keep typed.
    #[error("{0} is not a column the store keeps; only managed properties are")]
    UnknownColumn(String),
    /// A stored JSON value could not be read.
    #[error("stored data is corrupt ({what}): {source}")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

pub(crate) trait Context<T> {
    fn ctx(self, what: &'static str) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, sqlx::Error> {
    fn ctx(self, what: &'static str) -> Result<T> {
        self.map_err(|source| Error::Query { what, source })
    }
}
