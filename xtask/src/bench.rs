//! `cargo xtask bench`: the budgets of DESIGN.md, measured (placeholder).

use crate::Result;

pub fn bench(_args: &[String]) -> Result {
    Err("not yet".into())
}
