//! A scripted chat-completions server for tests: it speaks the OpenAI protocol
//! (`POST /v1/chat/completions`, `GET /v1/models`) on 127.0.0.1, answers each
//! request with the next scripted [`Reply`], records what it received ([`Seen`]),
//! and notes requests a real server would refuse (bodies that are not JSON,
//! images that are not decodable JPEG data URIs). It stops when the [`Server`] is
//! dropped. The core's and the CLI's VLM tests share it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The model the server lists at `/v1/models`.
pub const MODEL: &str = "scripted";

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A 200 chat completion whose message content is this text.
    Content(String),
    /// The same, after a delay.
    Slow(Duration, String),
    /// Any status and raw body, with an optional Retry-After.
    Raw(u16, String, Option<&'static str>),
    /// A 500 whose body echoes the request's Authorization header (a careless proxy).
    EchoAuth,
}

/// What the server received in one chat request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub model: String,
    /// `response_format` asked for a JSON object.
    pub json_mode: bool,
    /// Every text part, in order.
    pub texts: Vec<String>,
    /// The size of every image part.
    pub images: Vec<(u32, u32)>,
    /// The Authorization header, if any.
    pub auth: Option<String>,
}

#[derive(Default)]
struct Script {
    replies: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<Seen>>,
    problems: Mutex<Vec<String>>,
}

impl Script {
    fn problem(&self, p: String) {
        self.problems
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(p);
    }
}

/// A running server; stopped (and its thread joined) when dropped.
pub struct Server {
    url: String,
    script: Arc<Script>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts a server on a free port of 127.0.0.1 that answers with `replies` in
    /// order (then with 500 "the test script is exhausted").
    pub fn start(replies: impl IntoIterator<Item = Reply>) -> Server {
        let script = Arc::new(Script::default());
        script.replies.lock().unwrap().extend(replies);
        let s = script.clone();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime for the test server");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("a port on 127.0.0.1");
                addr_tx
                    .send(listener.local_addr().expect("the bound address"))
                    .expect("the test waits for the address");
                let app = axum::Router::new()
                    .route("/v1/chat/completions", post(chat))
                    .route("/v1/models", get(models))
                    .with_state(s);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("the test server runs");
            });
        });
        let addr = addr_rx.recv().expect("the test server starts");
        Server {
            url: format!("http://{addr}/v1"),
            script,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Starts a server that answers each chat request with the next of `contents`.
    pub fn replying(contents: &[&str]) -> Server {
        Self::start(contents.iter().map(|c| Reply::Content(c.to_string())))
    }

    /// The base URL clients are given (`http://127.0.0.1:PORT/v1`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every chat request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.script.seen.lock().unwrap().clone()
    }

    /// Fails the test if the server saw a request a real server would refuse.
    pub fn assert_clean(&self) {
        let p = self.script.problems.lock().unwrap();
        assert!(p.is_empty(), "the server saw bad requests: {p:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A chat completion whose message content is `content`.
fn completion(content: &str) -> String {
    json!({
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": MODEL,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}]
    })
    .to_string()
}

async fn models() -> impl IntoResponse {
    (
        [("content-type", "application/json")],
        json!({"object": "list", "data": [{"id": MODEL, "object": "model"}]}).to_string(),
    )
}

/// Reads what a request carries, noting anything malformed.
fn read_request(script: &Script, req: &Value, auth: Option<String>) -> Seen {
    let mut seen = Seen {
        model: req["model"].as_str().unwrap_or("").to_string(),
        json_mode: req["response_format"]["type"] == "json_object",
        texts: Vec::new(),
        images: Vec::new(),
        auth,
    };
    for m in req["messages"].as_array().into_iter().flatten() {
        match &m["content"] {
            Value::String(t) => seen.texts.push(t.clone()),
            Value::Array(parts) => {
                for p in parts {
                    match p["type"].as_str() {
                        Some("text") => seen.texts.push(p["text"].as_str().unwrap_or("").into()),
                        Some("image_url") => {
                            let url = p["image_url"]["url"].as_str().unwrap_or("");
                            let decoded = url
                                .strip_prefix("data:image/jpeg;base64,")
                                .and_then(|b| {
                                    base64::engine::general_purpose::STANDARD.decode(b).ok()
                                })
                                .and_then(|bytes| image::load_from_memory(&bytes).ok());
                            match decoded {
                                Some(img) => seen.images.push((img.width(), img.height())),
                                None => script
                                    .problem("an image is not a decodable JPEG data URI".into()),
                            }
                        }
                        other => script.problem(format!("part type {other:?}")),
                    }
                }
            }
            other => script.problem(format!("content {other}")),
        }
    }
    seen
}

async fn chat(State(script): State<Arc<Script>>, headers: HeaderMap, body: Bytes) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            script.problem(format!("body is not JSON: {e}"));
            return (StatusCode::BAD_REQUEST, "bad json").into_response();
        }
    };
    let seen = read_request(&script, &req, auth.clone());
    script.seen.lock().unwrap().push(seen);
    let next = script.replies.lock().unwrap().pop_front();
    match next {
        Some(Reply::Content(c)) => {
            ([("content-type", "application/json")], completion(&c)).into_response()
        }
        Some(Reply::Slow(d, c)) => {
            tokio::time::sleep(d).await;
            ([("content-type", "application/json")], completion(&c)).into_response()
        }
        Some(Reply::Raw(status, body, retry_after)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = (status, body).into_response();
            if let Some(ra) = retry_after.and_then(|ra| ra.parse().ok()) {
                r.headers_mut().insert("retry-after", ra);
            }
            r
        }
        Some(Reply::EchoAuth) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "upstream failed for request with authorization: {}",
                auth.unwrap_or_default()
            ),
        )
            .into_response(),
        None => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the test script is exhausted",
        )
            .into_response(),
    }
}
