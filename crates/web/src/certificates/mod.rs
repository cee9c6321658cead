//! Certificates (5.5): the certificate desk and public verification.

pub mod announcements;
pub mod desk;
pub mod registry;
pub mod verify;
