//! End-to-end tests of the `evident` binary on a real SQLite file and a real PostgreSQL
//! database (a fresh one per test on the server named by EVIDENT_TEST_PG_URL, by default the
//! local server's `test` database). Scenarios run on both, listed once in `on_both_databases!`.

/// Runs each scenario `fn(Backend)` as two tests, `sqlite::name` and `postgres::name`.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[test] fn $name() { super::$name(super::Backend::Sqlite) } )* }
        mod postgres { $( #[test] fn $name() { super::$name(super::Backend::Postgres) } )* }
    };
}

mod access_reviews;
mod app;
mod backup;
mod checks;
mod common;
mod crash;
mod description;
mod facts;
mod fieldwork;
mod foundation;
mod generated;
mod github;
mod instances;
mod jobs;
mod oscal;
mod packs;
mod readiness;
mod registers;
mod security;
mod server;
mod tsa;
mod vault;
mod web_actions;
mod window;
