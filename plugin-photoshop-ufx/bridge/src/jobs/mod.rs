//! Jobs: what a panel asks for ([`spec`]), the bands it sends ([`upload`]), the
//! memory-bounded queue jobs wait in ([`queue`]) and the work itself on the
//! core's engine ([`render`]).

pub mod queue;
pub mod render;
pub mod spec;
pub mod upload;

/// A job that cannot go on: a stable code for the panel and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JobFailure {
    pub code: &'static str,
    pub message: String,
}

impl JobFailure {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        JobFailure {
            code,
            message: message.into(),
        }
    }
}
