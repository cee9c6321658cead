//! The crate's integration tests, in one binary (one link step on a 2-core machine).

mod accounts;
mod appeals;
mod archive;
mod backup;
mod case_core;
mod cases;
mod complaints;
mod mail;
mod receipts;
mod registration;
mod sanctions;

/// The settings for tests of other rules: staff need no second factor here (the default is on;
/// `accounts::staff_need_a_second_factor_by_default` pins that).
pub fn without_staff_second_factor() -> zizhi_app::AppConfig {
    zizhi_app::AppConfig {
        require_totp_for_staff: false,
        ..zizhi_app::AppConfig::default()
    }
}
