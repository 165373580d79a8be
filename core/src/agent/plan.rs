//! What an agent (offline or VLM) makes of an instruction before the rethink loop
//! runs it: the edits the words ask for, where to start, and what to tell the user.

use super::rethink::{Advisor, Guidance};
use super::Interpretation;

/// What the agent will do with an instruction.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The edits with the amounts the words ask for (what the rethink loop checks).
    pub interpretation: Interpretation,
    /// The VLM's first value per edit (`None`: start from the asked amounts).
    pub start: Option<Vec<f32>>,
    /// Things the user should know: regions no segmenter can find, clamped values.
    pub notes: Vec<String>,
    /// Which step used the VLM and which fell back, in order.
    pub trace: Vec<String>,
}

impl Plan {
    /// The offline agent's reading, as a plan.
    pub fn offline(interpretation: Interpretation) -> Self {
        Plan {
            interpretation,
            start: None,
            notes: Vec::new(),
            trace: Vec::new(),
        }
    }

    /// How the rethink loop is steered for this plan.
    pub fn guidance<'a>(
        &'a self,
        instruction: &'a str,
        advisor: Option<&'a dyn Advisor>,
    ) -> Guidance<'a> {
        Guidance {
            instruction,
            start: self.start.as_deref(),
            advisor,
        }
    }
}
