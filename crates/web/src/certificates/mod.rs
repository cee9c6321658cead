//! Certificates (5.5): the certificate desk, public verification, the register, announcements
//! and sanctions (六).

pub mod announcements;
pub mod complaints;
pub mod desk;
pub mod registry;
pub mod sanctions;
pub mod verify;
