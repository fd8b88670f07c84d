//! Fieldwork in the server: the auditor's engagements, request lists, populations and samples.
//! Every rule (who may take which step, what an auditor or owner sees) is the store's; this area
//! only reads requests and hands the caller's role and email down.

pub mod api;
