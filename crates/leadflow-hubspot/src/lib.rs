//! Typed HubSpot client (placeholder).
