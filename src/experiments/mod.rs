//! Experiments: what a run computes from loaded datasets.
//!
//! Each experiment is a config section and a module here that turns
//! [`crate::data::Dataset`]s into plain serialisable results; rendering them
//! is [`crate::report`]'s job.

pub mod formats;
pub mod loss_table;
pub mod summary;
