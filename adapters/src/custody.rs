//! The custody adapter (placeholder until it lands).
