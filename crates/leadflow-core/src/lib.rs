//! Domain vocabulary shared by every leadflow crate.
//!
//! This crate names the things leadflow talks about (HubSpot object types, secrets) so
//! that the client, the store and the engine agree on them. It knows nothing about HTTP,
//! SQL, async runtimes or serialization: wire formats and rows live in their boundary
//! crates and convert to these types explicitly.

mod object_type;
mod secret;

pub use object_type::{ObjectType, UnknownObjectType};
pub use secret::Secret;
