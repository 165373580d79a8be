//! The JSON control messages (WebSocket text frames), both directions.
//! Field names are the wire names; unknown fields are ignored so that a newer
//! panel's extra fields do not break an older bridge within one protocol version.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest control message accepted (a region state with many regions fits easily).
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// A small frame rendered to a JPEG for the panel (the document is untouched).
    Preview,
    /// The full-resolution frame rendered to result bands the panel pulls.
    Apply,
    /// An instruction read into a region state on a small frame.
    Agent,
}

/// The host the panel runs in (for logs and support).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostInfo {
    #[serde(default)]
    pub app: String,
    #[serde(default)]
    pub version: String,
}

/// A job's description (`job.start`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStart {
    pub job: u32,
    pub op: Op,
    pub width: u32,
    pub height: u32,
    /// 3 (RGB) or 4 (RGBA).
    pub components: u8,
    /// 8 or 16 (16-bit samples in full range, 0..65535).
    pub depth: u8,
    /// The document's colour profile name (kept as is: no conversion is made).
    #[serde(default)]
    pub profile: String,
    /// Selection bands follow the source bands.
    #[serde(default)]
    pub selection: bool,
    /// The region state to render (preview, apply) or to start from (agent).
    #[serde(default)]
    pub state: Option<Value>,
    /// The instruction (agent; remembered with an apply).
    #[serde(default)]
    pub instruction: Option<String>,
    /// Preview only: how much of the edit to show, 0..1 (apply leaves this to the
    /// layer's opacity).
    #[serde(default)]
    pub mix: Option<f32>,
    /// Agent only: start from the most similar remembered edit when `state` is empty.
    #[serde(default)]
    pub recall: bool,
    /// Apply only: remember this edit in the "photoshop" memory profile.
    #[serde(default)]
    pub remember: bool,
}

/// Messages from a client (the panel, or `pertouch bridge pair`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ClientMessage {
    /// First message of a paired client.
    #[serde(rename = "hello")]
    Hello {
        proto: u32,
        token: String,
        #[serde(default)]
        client: String,
        #[serde(default)]
        host: HostInfo,
    },
    /// First message of a client pairing with a one-time code.
    #[serde(rename = "pair")]
    Pair {
        proto: u32,
        code: String,
        #[serde(default)]
        client: String,
    },
    /// Asks for a pairing code (authenticated clients only: `pertouch bridge pair`).
    #[serde(rename = "pair.issue")]
    PairIssue,
    #[serde(rename = "job.start")]
    JobStart(JobStart),
    /// Every source (and selection) band has been sent.
    #[serde(rename = "job.source_end")]
    SourceEnd { job: u32 },
    /// Sends result band `band` of a finished apply job.
    #[serde(rename = "result.get")]
    ResultGet { job: u32, band: u32 },
    #[serde(rename = "cancel")]
    Cancel { job: u32 },
    /// The panel is done with the job: its memory is freed.
    #[serde(rename = "job.close")]
    JobClose { job: u32 },
}

/// One edit the agent understood, for the panel to show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Understood {
    pub region: String,
    pub attribute: String,
    pub amount: f32,
}

/// A remembered edit the agent started from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recalled {
    pub instruction: String,
    pub similarity: f32,
    pub tags: Vec<String>,
}

/// The limits a client must keep to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest WebSocket message, bytes.
    pub max_message: usize,
    /// Largest band payload, bytes.
    pub max_band_bytes: usize,
    /// Most pixels of an apply job.
    pub max_pixels: u64,
    /// Most pixels of a preview or agent job.
    pub max_preview_pixels: u64,
}

/// Messages from the bridge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ServerMessage {
    #[serde(rename = "welcome")]
    Welcome {
        proto: u32,
        bridge: String,
        renderer: String,
        limits: Limits,
        /// Region names the bridge can find by itself.
        regions: Vec<String>,
    },
    /// Pairing worked: the token to send in every later `hello`.
    #[serde(rename = "paired")]
    Paired { token: String },
    /// A fresh one-time pairing code (to show the user, never to log).
    #[serde(rename = "pair.code")]
    PairCode { code: String, expires_in: u64 },
    /// The job waits for memory: `ahead` jobs before it.
    #[serde(rename = "job.queued")]
    JobQueued { job: u32, ahead: usize },
    /// Send the bands now, each at most `rows_per_band` rows.
    #[serde(rename = "job.accepted")]
    JobAccepted { job: u32, rows_per_band: u32 },
    #[serde(rename = "progress")]
    Progress { job: u32, stage: String, value: f32 },
    #[serde(rename = "agent.state")]
    AgentState {
        job: u32,
        state: Value,
        understood: Vec<Understood>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        recalled: Option<Recalled>,
    },
    /// The result is rendered: pull bands `0..bands` with `result.get`.
    #[serde(rename = "result.ready")]
    ResultReady {
        job: u32,
        bands: u32,
        rows_per_band: u32,
    },
    #[serde(rename = "job.done")]
    JobDone { job: u32 },
    #[serde(rename = "job.cancelled")]
    JobCancelled { job: u32 },
    #[serde(rename = "job.failed")]
    JobFailed {
        job: u32,
        code: String,
        message: String,
    },
    /// A connection-level error; the bridge closes the connection after it.
    #[serde(rename = "error")]
    Error { code: String, message: String },
}

/// Why a text message is not a client message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("control message of {0} bytes (at most {MAX_TEXT_BYTES})")]
    TooLong(usize),
    #[error("not a control message: {0}")]
    Invalid(String),
}

impl ClientMessage {
    /// Parses a text frame.
    pub fn parse(text: &str) -> Result<ClientMessage, MessageError> {
        if text.len() > MAX_TEXT_BYTES {
            return Err(MessageError::TooLong(text.len()));
        }
        serde_json::from_str(text).map_err(|e| MessageError::Invalid(e.to_string()))
    }

    /// The message's `type`, for logs (never its fields: a hello carries the token).
    pub fn kind(&self) -> &'static str {
        match self {
            ClientMessage::Hello { .. } => "hello",
            ClientMessage::Pair { .. } => "pair",
            ClientMessage::PairIssue => "pair.issue",
            ClientMessage::JobStart(_) => "job.start",
            ClientMessage::SourceEnd { .. } => "job.source_end",
            ClientMessage::ResultGet { .. } => "result.get",
            ClientMessage::Cancel { .. } => "cancel",
            ClientMessage::JobClose { .. } => "job.close",
        }
    }
}

impl ServerMessage {
    /// The JSON text of the message.
    pub fn to_text(&self) -> String {
        // Serialising these plain structs cannot fail.
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!("{{\"type\":\"error\",\"code\":\"internal\",\"message\":\"{e}\"}}")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_messages() {
        let m = ClientMessage::parse(
            r#"{"type":"hello","proto":1,"token":"t","client":"panel","host":{"app":"PS","version":"27.4"},"extra":1}"#,
        )
        .unwrap();
        assert!(matches!(m, ClientMessage::Hello { proto: 1, .. }));
        let m = ClientMessage::parse(
            r#"{"type":"job.start","job":3,"op":"apply","width":10,"height":5,"components":3,"depth":16,"state":{"sky":{"temperature":0.2}}}"#,
        )
        .unwrap();
        let ClientMessage::JobStart(j) = m else {
            panic!("{m:?}")
        };
        assert_eq!(
            (j.job, j.op, j.depth, j.selection),
            (3, Op::Apply, 16, false)
        );
        assert!(ClientMessage::parse(r#"{"type":"launch_missiles"}"#).is_err());
        assert!(ClientMessage::parse(r#"{"type":"cancel"}"#).is_err());
        let long = format!(
            "{{\"type\":\"cancel\",\"job\":1,\"x\":\"{}\"}}",
            "a".repeat(MAX_TEXT_BYTES)
        );
        assert!(matches!(
            ClientMessage::parse(&long),
            Err(MessageError::TooLong(_))
        ));
    }

    #[test]
    fn server_messages_carry_their_type() {
        let t = ServerMessage::JobDone { job: 4 }.to_text();
        assert_eq!(t, r#"{"type":"job.done","job":4}"#);
    }
}
