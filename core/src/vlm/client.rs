//! A client for OpenAI-compatible chat-completions servers (vLLM, llama.cpp's
//! server, Ollama, LM Studio, hosted APIs): `POST {base}/chat/completions` with
//! text and base64 JPEG images, retries with backoff on 429 and 5xx, cancellation.
//! The API key is sent as a bearer token and nowhere else: it is not logged, not
//! in errors (server text that echoes it is redacted) and not in `Debug` output.
//!
//! Replies are streamed (`"stream": true`; a server that answers in one piece is
//! read the same way), and the time limit is on silence: a slow model that keeps
//! sending tokens is never cut off, while a server that accepts the request and
//! then says nothing costs one [`VlmConfig::timeout`]. A server that timed out or
//! could not be reached is not asked again by this client: later calls fail at
//! once, saying why, so the agent falls back without waiting again. Replies are
//! bounded ([`MAX_REPLY_BYTES`], [`VlmConfig::max_duration`]).

use crate::raster::Raster;
use crate::render::CancelToken;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// An API key. Its `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Option<Self> {
        let k = key.into();
        (!k.trim().is_empty()).then(|| ApiKey(k.trim().to_string()))
    }

    /// Reads the key from the environment variable `var`.
    pub fn from_env(var: &str) -> Option<Self> {
        std::env::var(var).ok().and_then(ApiKey::new)
    }

    fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the key replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.0, "***")
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl std::fmt::Display for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Largest reply read, in bytes (a reply of `max_tokens` tokens is a few KB; this
/// bounds what a misbehaving server can make the client hold).
pub const MAX_REPLY_BYTES: usize = 4 << 20;

/// Where the VLM is and how to talk to it.
#[derive(Debug, Clone)]
pub struct VlmConfig {
    /// Base URL up to and including the API version, e.g. `http://127.0.0.1:8000/v1`.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<ApiKey>,
    /// Longest silence: no reply headers or reply bytes from the server for this
    /// long ends the request (it is not retried), and the server is not asked
    /// again by this client.
    pub timeout: Duration,
    /// Longest a reply may take in all, however steadily it arrives.
    pub max_duration: Duration,
    /// Further attempts after a 429, a 5xx or a refused connection.
    pub retries: u32,
    /// First backoff; doubles each retry (a server's `Retry-After` is honoured up
    /// to [`VlmConfig::max_backoff`]).
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// Images are downscaled to this long side before they are sent.
    pub image_long_side: usize,
    /// Ask for `response_format: {"type": "json_object"}` (servers that do not
    /// support it may refuse; turn it off for them).
    pub json_mode: bool,
    /// Upper bound on reply tokens.
    pub max_tokens: u32,
}

impl VlmConfig {
    pub fn new(base_url: &str, model: &str) -> Self {
        VlmConfig {
            base_url: base_url.trim_end_matches('/').to_string(),
            model: model.to_string(),
            api_key: None,
            timeout: Duration::from_secs(60),
            max_duration: Duration::from_secs(600),
            retries: 2,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            image_long_side: 768,
            json_mode: true,
            max_tokens: 1024,
        }
    }
}

/// Why a chat call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VlmError {
    #[error("the VLM server at {url} cannot be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the VLM server sent nothing for {:.1} s", .0.as_secs_f64())]
    Timeout(Duration),
    #[error("the VLM server's reply did not finish within {:.0} s", .0.as_secs_f64())]
    TooSlow(Duration),
    #[error("not asking the VLM server at {url} again: {reason} earlier in this session")]
    GaveUp { url: String, reason: String },
    #[error("the VLM server answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the VLM's reply is not usable: {0}")]
    BadReply(String),
    #[error("cancelled")]
    Cancelled,
    #[error("invalid VLM request: {0}")]
    Invalid(String),
}

/// One part of a user message.
#[derive(Debug, Clone)]
pub enum Part {
    Text(String),
    /// An image, sent as a base64 JPEG data URI.
    Image(Raster),
}

/// A chat message.
#[derive(Debug, Clone)]
pub struct Message {
    pub role: &'static str,
    pub parts: Vec<Part>,
}

impl Message {
    pub fn system(text: impl Into<String>) -> Self {
        Message {
            role: "system",
            parts: vec![Part::Text(text.into())],
        }
    }
    pub fn user(parts: Vec<Part>) -> Self {
        Message {
            role: "user",
            parts,
        }
    }
}

#[derive(Serialize)]
struct WireImageUrl {
    url: String,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WirePart {
    Text { text: String },
    ImageUrl { image_url: WireImageUrl },
}

#[derive(Serialize)]
#[serde(untagged)]
enum WireContent {
    Text(String),
    Parts(Vec<WirePart>),
}

#[derive(Serialize)]
struct WireMessage {
    role: &'static str,
    content: WireContent,
}

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage>,
    temperature: f32,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<serde_json::Value>,
    stream: bool,
}

#[derive(Deserialize)]
struct WireReply {
    choices: Vec<WireChoice>,
}

#[derive(Deserialize)]
struct WireChoice {
    message: WireReplyMessage,
}

#[derive(Deserialize)]
struct WireReplyMessage {
    content: Option<String>,
}

/// A JPEG data URI of `image`, downscaled to `long_side`.
pub fn jpeg_data_uri(image: &Raster, long_side: usize) -> Result<String, VlmError> {
    let small = crate::agent::preview(image, long_side.max(16));
    let rgb = small.rgb_resized(small.width(), small.height());
    let bytes: Vec<u8> = rgb
        .data
        .iter()
        .flat_map(|p| p.map(|v| (v + 0.5).clamp(0.0, 255.0) as u8))
        .collect();
    let mut out = Vec::new();
    let enc = jpeg_encoder::Encoder::new(&mut out, 88);
    enc.encode(
        &bytes,
        rgb.width as u16,
        rgb.height as u16,
        jpeg_encoder::ColorType::Rgb,
    )
    .map_err(|e| VlmError::Invalid(format!("encoding the image: {e}")))?;
    Ok(format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(out)
    ))
}

/// A chat-completions client. Calls block the calling thread (the agent is
/// synchronous); inside, one small tokio runtime drives `reqwest`.
pub struct VlmClient {
    config: VlmConfig,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    /// Why this client stopped asking its server, once it has.
    gave_up: parking_lot::Mutex<Option<String>>,
}

impl std::fmt::Debug for VlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VlmClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl VlmClient {
    pub fn new(config: VlmConfig) -> Result<Self, VlmError> {
        if !(config.base_url.starts_with("http://") || config.base_url.starts_with("https://")) {
            return Err(VlmError::Invalid(format!(
                "the VLM URL {} must start with http:// or https://",
                config.base_url
            )));
        }
        if config.model.trim().is_empty() {
            return Err(VlmError::Invalid("no VLM model name given".into()));
        }
        // Time limits are on silence and on the whole reply (see `send_once`), not
        // on the request as a whole: a streaming reply may rightly take minutes.
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| VlmError::Invalid(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| VlmError::Invalid(format!("starting the HTTP runtime: {e}")))?;
        Ok(VlmClient {
            config,
            http,
            runtime,
            gave_up: parking_lot::Mutex::new(None),
        })
    }

    pub fn config(&self) -> &VlmConfig {
        &self.config
    }

    fn redact(&self, text: &str) -> String {
        match &self.config.api_key {
            Some(k) => k.redact(text),
            None => text.to_string(),
        }
    }

    fn endpoint(&self) -> String {
        format!("{}/chat/completions", self.config.base_url)
    }

    fn wire(&self, messages: &[Message]) -> Result<Vec<WireMessage>, VlmError> {
        messages
            .iter()
            .map(|m| {
                let content = match &m.parts[..] {
                    [Part::Text(t)] => WireContent::Text(t.clone()),
                    parts => WireContent::Parts(
                        parts
                            .iter()
                            .map(|p| {
                                Ok(match p {
                                    Part::Text(t) => WirePart::Text { text: t.clone() },
                                    Part::Image(img) => WirePart::ImageUrl {
                                        image_url: WireImageUrl {
                                            url: jpeg_data_uri(img, self.config.image_long_side)?,
                                        },
                                    },
                                })
                            })
                            .collect::<Result<_, VlmError>>()?,
                    ),
                };
                Ok(WireMessage {
                    role: m.role,
                    content,
                })
            })
            .collect()
    }

    /// Sends `messages` and returns the reply's text, retrying what is worth
    /// retrying. Cancelling `cancel` ends the call within about 50 ms. After a
    /// timeout or an unreachable server, this and every later call fail at once
    /// with [`VlmError::GaveUp`].
    pub fn chat(
        &self,
        messages: &[Message],
        cancel: Option<&CancelToken>,
    ) -> Result<String, VlmError> {
        if let Some(reason) = self.gave_up.lock().clone() {
            return Err(VlmError::GaveUp {
                url: self.config.base_url.clone(),
                reason,
            });
        }
        let request = WireRequest {
            model: &self.config.model,
            messages: self.wire(messages)?,
            temperature: 0.0,
            max_tokens: self.config.max_tokens,
            response_format: self
                .config
                .json_mode
                .then(|| serde_json::json!({"type": "json_object"})),
            stream: true,
        };
        let body = serde_json::to_vec(&request).map_err(|e| VlmError::Invalid(e.to_string()))?;
        let cancelled = async {
            loop {
                if cancel.is_some_and(|c| c.is_cancelled()) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        let limit = self.config.max_duration;
        let result = self.runtime.block_on(async {
            tokio::select! {
                r = tokio::time::timeout(limit, self.send_with_retries(body)) => {
                    r.unwrap_or(Err(VlmError::TooSlow(limit)))
                }
                _ = cancelled => Err(VlmError::Cancelled),
            }
        });
        let give_up = match &result {
            Err(VlmError::Timeout(d)) => {
                Some(format!("it sent nothing for {:.1} s", d.as_secs_f64()))
            }
            Err(VlmError::TooSlow(d)) => {
                Some(format!("its reply took over {:.0} s", d.as_secs_f64()))
            }
            Err(VlmError::Unreachable { .. }) => Some("it could not be reached".to_string()),
            _ => None,
        };
        if let Some(reason) = give_up {
            tracing::warn!(url = %self.config.base_url, "the VLM server is not asked again in this session: {reason}");
            *self.gave_up.lock() = Some(reason);
        }
        result
    }

    async fn send_with_retries(&self, body: Vec<u8>) -> Result<String, VlmError> {
        let mut attempt = 0u32;
        loop {
            let (result, retry_after) = self.send_once(body.clone()).await;
            // A server that stayed silent is not asked again: waiting through the
            // same silence once more is what held users for minutes.
            let retryable = match &result {
                Ok(_) => false,
                Err(VlmError::Status { status, .. }) => *status == 429 || *status >= 500,
                Err(VlmError::Unreachable { .. }) => true,
                Err(_) => false,
            };
            if !retryable || attempt >= self.config.retries {
                return result;
            }
            let backoff = retry_after
                .unwrap_or(self.config.backoff * 2u32.saturating_pow(attempt))
                .min(self.config.max_backoff);
            tracing::warn!(
                attempt = attempt + 1,
                error = %result.as_ref().err().map(|e| e.to_string()).unwrap_or_default(),
                ?backoff,
                "VLM request failed; retrying"
            );
            tokio::time::sleep(backoff).await;
            attempt += 1;
        }
    }

    /// One attempt: the reply text, or the error and a server-given Retry-After.
    async fn send_once(&self, body: Vec<u8>) -> (Result<String, VlmError>, Option<Duration>) {
        let mut req = self
            .http
            .post(self.endpoint())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(k) = &self.config.api_key {
            req = req.bearer_auth(k.expose());
        }
        let idle = self.config.timeout;
        let started = std::time::Instant::now();
        let response = match tokio::time::timeout(idle, req.send()).await {
            Err(_) => return (Err(VlmError::Timeout(idle)), None),
            Ok(Err(e)) => return (Err(self.transport_error(e)), None),
            Ok(Ok(r)) => r,
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e6)
            .map(Duration::from_secs_f64);
        let streamed = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let mut reading = ReplyReader::new(streamed && status.is_success());
        let mut response = response;
        loop {
            match tokio::time::timeout(idle, response.chunk()).await {
                Err(_) => return (Err(VlmError::Timeout(idle)), retry_after),
                Ok(Err(e)) => return (Err(self.transport_error(e)), retry_after),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(bytes))) => {
                    if let Err(e) = reading.push(&bytes) {
                        return (Err(e), None);
                    }
                    if reading.done() {
                        break;
                    }
                }
            }
        }
        tracing::debug!(status = status.as_u16(), elapsed = ?started.elapsed(), bytes = reading.bytes, streamed, "VLM replied");
        if !status.is_success() {
            let text = String::from_utf8_lossy(&reading.raw).into_owned();
            return (Err(self.status_error(status, &text)), retry_after);
        }
        (reading.finish(), None)
    }

    /// The model names the server lists at `GET {base}/models` (most
    /// OpenAI-compatible servers answer it): a cheap check that the server is up
    /// and serves the configured model. One attempt, no retries.
    pub fn list_models(&self) -> Result<Vec<String>, VlmError> {
        #[derive(Deserialize)]
        struct Listed {
            id: String,
        }
        #[derive(Deserialize)]
        struct Models {
            data: Vec<Listed>,
        }
        let limit = self.config.timeout;
        self.runtime.block_on(async {
            let call = async {
                let mut req = self.http.get(format!("{}/models", self.config.base_url));
                if let Some(k) = &self.config.api_key {
                    req = req.bearer_auth(k.expose());
                }
                let mut r = req.send().await.map_err(|e| self.transport_error(e))?;
                let status = r.status();
                let mut reading = ReplyReader::new(false);
                while let Some(bytes) = r.chunk().await.map_err(|e| self.transport_error(e))? {
                    reading.push(&bytes)?;
                }
                let text = String::from_utf8_lossy(&reading.raw).into_owned();
                if !status.is_success() {
                    return Err(self.status_error(status, &text));
                }
                let m: Models = serde_json::from_str(&text)
                    .map_err(|e| VlmError::BadReply(format!("not a model list ({e})")))?;
                Ok(m.data.into_iter().map(|d| d.id).collect())
            };
            tokio::time::timeout(limit, call)
                .await
                .unwrap_or(Err(VlmError::Timeout(limit)))
        })
    }

    /// An HTTP error status with the start of the server's text (the key redacted).
    fn status_error(&self, status: reqwest::StatusCode, text: &str) -> VlmError {
        let body = self.redact(text.trim());
        let shown = prefix(&body, 300);
        VlmError::Status {
            status: status.as_u16(),
            body: if shown.len() < body.len() {
                format!("{shown}…")
            } else {
                body.clone()
            },
        }
    }

    fn transport_error(&self, e: reqwest::Error) -> VlmError {
        if e.is_timeout() {
            VlmError::Timeout(self.config.timeout)
        } else {
            // reqwest's message names the URL, never the headers.
            VlmError::Unreachable {
                url: self.config.base_url.clone(),
                reason: self.redact(&error_chain(&e)),
            }
        }
    }
}

/// A reply as it arrives: a server-sent-event stream of chat-completion chunks
/// (their `delta.content` joined), or one JSON body; at most [`MAX_REPLY_BYTES`].
struct ReplyReader {
    streamed: bool,
    /// The whole body (plain replies) or the unfinished last line (streams).
    raw: Vec<u8>,
    content: String,
    bytes: usize,
    finished: bool,
}

impl ReplyReader {
    fn new(streamed: bool) -> Self {
        ReplyReader {
            streamed,
            raw: Vec::new(),
            content: String::new(),
            bytes: 0,
            finished: false,
        }
    }

    fn push(&mut self, chunk: &[u8]) -> Result<(), VlmError> {
        self.bytes += chunk.len();
        if self.bytes > MAX_REPLY_BYTES {
            return Err(VlmError::BadReply(format!(
                "the reply is larger than {MAX_REPLY_BYTES} bytes"
            )));
        }
        self.raw.extend_from_slice(chunk);
        if self.streamed {
            while let Some(end) = self.raw.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.raw.drain(..=end).collect();
                self.line(&line)?;
            }
        }
        Ok(())
    }

    /// One line of the event stream: `data: {chunk}` or `data: [DONE]`; comments,
    /// event names and blank lines carry nothing.
    fn line(&mut self, line: &[u8]) -> Result<(), VlmError> {
        let line = String::from_utf8_lossy(line);
        let Some(data) = line.trim_end().strip_prefix("data:") else {
            return Ok(());
        };
        let data = data.trim();
        if data == "[DONE]" {
            self.finished = true;
            return Ok(());
        }
        let chunk: serde_json::Value = serde_json::from_str(data)
            .map_err(|e| VlmError::BadReply(format!("a streamed chunk is not JSON ({e})")))?;
        if let Some(err) = chunk.get("error") {
            return Err(VlmError::BadReply(format!(
                "the server reported an error mid-reply: {}",
                crate::printable::printable(&err.to_string(), 300)
            )));
        }
        if let Some(text) = chunk
            .pointer("/choices/0/delta/content")
            .and_then(|c| c.as_str())
        {
            self.content.push_str(text);
        }
        Ok(())
    }

    fn done(&self) -> bool {
        self.finished
    }

    /// The reply's text.
    fn finish(mut self) -> Result<String, VlmError> {
        if self.streamed {
            let rest = std::mem::take(&mut self.raw);
            self.line(&rest)?;
            return if self.content.trim().is_empty() {
                Err(VlmError::BadReply(
                    "the reply has no message content".into(),
                ))
            } else {
                Ok(self.content)
            };
        }
        let reply: WireReply = serde_json::from_slice(&self.raw)
            .map_err(|e| VlmError::BadReply(format!("not a chat-completions response ({e})")))?;
        reply
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| VlmError::BadReply("the reply has no message content".into()))
    }
}

/// The longest start of `text` of at most `max` bytes that ends on a character.
pub(crate) fn prefix(text: &str, max: usize) -> &str {
    let cut = (0..=max.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    &text[..cut]
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_print() {
        let k = ApiKey::new("sk-secret-123").unwrap();
        assert_eq!(format!("{k:?}"), "ApiKey(***)");
        assert_eq!(format!("{k}"), "***");
        assert_eq!(k.redact("Bearer sk-secret-123 ok"), "Bearer *** ok");
        let mut c = VlmConfig::new("http://127.0.0.1:1/v1/", "m");
        c.api_key = Some(k);
        assert!(!format!("{c:?}").contains("secret"));
        assert_eq!(c.base_url, "http://127.0.0.1:1/v1");
        assert!(ApiKey::new("  ").is_none());
    }

    #[test]
    fn bad_configs_are_refused() {
        assert!(VlmClient::new(VlmConfig::new("127.0.0.1:8000", "m")).is_err());
        assert!(VlmClient::new(VlmConfig::new("http://127.0.0.1:8000/v1", " ")).is_err());
    }
}
