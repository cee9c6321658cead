//! The centre's formal documents: the delegation agreement (5.3); letters and certificates come
//! here when they are built.

pub mod agreement;
pub mod certificate;
pub mod letters;
