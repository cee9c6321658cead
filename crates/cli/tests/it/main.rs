//! The crate's integration tests, in one binary (one link step on a 2-core machine).

mod certificate;
mod cli;
mod schemathesis;
mod serve;
