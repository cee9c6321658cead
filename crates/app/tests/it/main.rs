//! The crate's integration tests, in one binary (one link step on a 2-core machine).

mod accounts;
mod case_core;
mod cases;
mod mail;
