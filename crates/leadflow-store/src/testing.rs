//! Test support for every crate whose tests run on both backends (feature `testing`,
//! enabled only as a dev-dependency): a fresh SQLite store in a temporary directory, a
//! fresh PostgreSQL database per test when `LEADFLOW_TEST_DATABASE_URL` is set, and
//! [`on_both`], which runs a test body on each.
//!
//! Without the URL the PostgreSQL half prints `skipped: …`, unless
//! `LEADFLOW_REQUIRE_POSTGRES=1` (CI), where it fails. Panics are this module's way of
//! failing a test; nothing here runs outside tests.

use std::future::Future;

use crate::{Backend, Store};

/// A fresh SQLite store; it lives as long as the directory.
///
/// # Panics
/// When the temporary directory or the store cannot be made.
pub async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("leadflow.db").display());
    let store = Store::connect(&url).await.expect("a SQLite store");
    (store, dir)
}

/// The database a test gets: unique per test and per test process.
fn database_name(test: &str) -> String {
    format!("leadflow_test_{}_{}", test, std::process::id())
}

/// A fresh PostgreSQL database for `test`, or `None` (with the reason printed) when none
/// is configured.
///
/// # Panics
/// When the database cannot be made, or when CI requires PostgreSQL and none is set.
pub async fn postgres(test: &str) -> Option<Store> {
    let Ok(base) = std::env::var("LEADFLOW_TEST_DATABASE_URL") else {
        assert!(
            std::env::var("LEADFLOW_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "LEADFLOW_REQUIRE_POSTGRES=1 but LEADFLOW_TEST_DATABASE_URL is not set"
        );
        println!(
            "skipped: {test} on PostgreSQL (set LEADFLOW_TEST_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test)"
        );
        return None;
    };
    sqlx::any::install_default_drivers();
    let name = database_name(test);
    let admin = sqlx::AnyPool::connect(&base)
        .await
        .expect("the test PostgreSQL answers");
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .execute(&admin)
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create a test database");
    admin.close().await;
    let (prefix, _) = base
        .rsplit_once('/')
        .expect("a database URL ends in /dbname");
    Some(
        Store::connect(&format!("{prefix}/{name}"))
            .await
            .expect("connect to the test database"),
    )
}

async fn drop_database(test: &str) {
    let Ok(base) = std::env::var("LEADFLOW_TEST_DATABASE_URL") else {
        return;
    };
    if let Ok(admin) = sqlx::AnyPool::connect(&base).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {}",
            database_name(test)
        )))
        .execute(&admin)
        .await;
        admin.close().await;
    }
}

/// Runs `body` on a fresh SQLite store, then on a fresh PostgreSQL database when one is
/// configured (dropped afterwards).
pub async fn on_both<F, Fut>(test: &str, body: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let (store, _dir) = sqlite().await;
    assert_eq!(store.backend(), Backend::Sqlite);
    body(store).await;
    if let Some(store) = postgres(test).await {
        assert_eq!(store.backend(), Backend::Postgres);
        body(store.clone()).await;
        store.close().await;
        drop_database(test).await;
    }
}
