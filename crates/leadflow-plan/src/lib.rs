//! Properties as code: the plan between a project's configuration and a portal, and
//! applying it.
//!
//! [`fetch`] reads what the plan needs from the portal (properties, groups, validation
//! rules, pipelines, sequences) into a [`PortalSnapshot`]. [`plan`] is a pure function of
//! the project and the snapshot: per property create / update / unchanged / conflict /
//! unmanaged, the `existing: true` checks, range rules, missing pipeline stages and
//! missing sequences. [`apply`] carries a plan out with the fewest write calls, so a
//! second apply after a successful one makes none; after a failure half-way, planning
//! again from the portal finishes the job without duplicating anything.
//!
//! This crate knows the configuration and the client; it prints nothing (the binary
//! renders plans) and stores nothing.

mod apply;
mod export;
mod plan;
mod portal;

pub use apply::{ApplyError, ApplyOptions, ApplyReport, apply};
pub use export::export_yaml;
pub use plan::{
    Change, Plan, PropertyAction, PropertyItem, RuleItem, SequenceItem, StageItem, plan,
};
pub use portal::{PortalSnapshot, fetch};
