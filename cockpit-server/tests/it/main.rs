//! The server's integration tests, one binary (the server links once): each module a
//! concern, the whole server started in-process on a fresh database per test (`common`).
//! `tests/hardening.rs` stays a binary of its own: it captures every log line of its
//! process, which would be every test's here.

mod common;

mod access;
mod assessment;
mod attachments;
mod balanced;
mod configuration;
mod deadlines;
mod devices;
mod durability;
mod history;
mod http;
mod identity;
mod indicator_alarms;
mod indicator_alarms_standing;
mod indicator_catalogue;
mod indicator_computed;
mod indicator_computed_history;
mod indicator_pull_hosts;
mod indicator_pulls;
mod indicator_sample;
mod indicator_values;
mod indicators;
mod intake;
mod iot;
mod lifecycle;
mod live;
mod mqtt_peers;
mod open311;
mod overload;
mod present;
mod reads;
mod refusals;
mod region_layers;
mod restore_drill;
mod security;
mod stats;
mod workbench;
