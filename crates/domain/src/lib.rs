//! zizhi's domain: the rules of the information security service qualification certification
//! (信息安全服务资质认定), disaster recovery category (灾难恢复类), as pure functions over typed
//! values. No I/O, no async, no database types. The guide
//! (`shared/reference/000_68ac6249915c8519.txt`) is the source of every rule; section numbers
//! are quoted where a rule is implemented.

pub mod appeal;
pub mod assess;
pub mod calendar;
pub mod case;
pub mod certificate;
pub mod clock;
pub mod criteria;
pub mod fees;
pub mod form;
pub mod gbt20261;
pub mod gbt20988;
pub mod lang;
pub mod money;
pub mod panel;
pub mod period;
pub mod profile;
pub mod renewal;
pub mod review;
pub mod roles;
pub mod sanction;
mod source;
pub mod uscc;

pub use source::SourceError;
