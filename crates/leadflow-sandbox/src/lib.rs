//! A local HubSpot stand-in (placeholder while the crate is being written).
