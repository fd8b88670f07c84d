//! placeholder until the script exists
