//! segment: not written yet.

use super::super::cx::{Cx, Failure};
use super::shared::{Item, Outcome};

pub(super) async fn deliver(cx: &mut Cx<'_>, items: &[Item]) -> Vec<Outcome> {
    items
        .iter()
        .map(|_| {
            Err(Failure::Stop(format!(
                "Sending to {} is not built yet.",
                cx.name
            )))
        })
        .collect()
}

#[allow(dead_code)]
pub(super) async fn validate(_cx: &mut Cx<'_>) -> Result<(), Failure> {
    Ok(())
}
