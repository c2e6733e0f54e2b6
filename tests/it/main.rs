//! The integration tests: one binary, a module per area. Tests that hold for both database
//! backends are generated twice by [`support::on_both_backends`] (`area::sqlite::name` and
//! `area::postgres::name`; the PostgreSQL one is skipped, saying so, when
//! `TEST_DATABASE_URL` is unset). [`contract`] checks the HTTP contract in-process on the real
//! router; the others speak HTTP to the real server, or spawn the real binary where
//! processes matter (instances, crash, outage, production).

mod support;

mod accounts;
mod activities_admin;
mod activities_import;
mod activities_search;
mod admin_api;
mod architecture;
mod areas_reports;
mod contract;
mod crash;
mod docs;
mod http_api;
mod hygiene;
mod import_cli;
mod instances;
mod iod2025;
mod matching_quality;
mod openapi_sync;
mod oruk;
mod oruk_import;
mod outage;
mod production;
mod raw_imports;
mod snapshot_delta;
mod sources;
mod streaming_imports;
mod work_budget;
