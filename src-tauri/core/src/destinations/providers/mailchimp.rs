//! mailchimp: not written yet.

use super::super::cx::{Cx, Failure};
use super::super::model::{Choice, TheirField};
use super::shared::{Item, Outcome};

pub(super) async fn one(cx: &mut Cx<'_>, _item: &Item) -> Outcome {
    Err(Failure::Stop(format!(
        "Sending to {} is not built yet.",
        cx.name
    )))
}

#[allow(dead_code)]
pub(super) async fn fields(_cx: &mut Cx<'_>) -> Result<Vec<TheirField>, Failure> {
    Ok(Vec::new())
}

#[allow(dead_code)]
pub(super) async fn groups(_cx: &mut Cx<'_>) -> Result<Vec<Choice>, Failure> {
    Ok(Vec::new())
}

#[allow(dead_code)]
pub(super) async fn lists(_cx: &mut Cx<'_>) -> Result<Vec<Choice>, Failure> {
    Ok(Vec::new())
}
