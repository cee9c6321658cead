//! The platform around the cases: signing in, accounts, users, organisations, evidence, the
//! audit log, and static assets.

pub mod account;
pub mod assets;
pub mod audit;
pub mod evidence;
pub mod home;
pub mod notifications;
pub mod organizations;
pub mod registration;
pub mod reset;
pub mod session;
pub mod sso;
pub mod users;
