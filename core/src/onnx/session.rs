//! A model session: created once, shared by every thread that renders.

use super::runtime::Runtime;
use parking_lot::Mutex;
use std::path::{Path, PathBuf};

/// Which execution provider a session should run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// The first of CUDA, TensorRT, DirectML, CoreML this library and machine
    /// support, else CPU.
    #[default]
    Auto,
    Cuda,
    TensorRt,
    DirectMl,
    CoreMl,
    Cpu,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::Auto => "auto",
            Provider::Cuda => "CUDA",
            Provider::TensorRt => "TensorRT",
            Provider::DirectMl => "DirectML",
            Provider::CoreMl => "CoreML",
            Provider::Cpu => "CPU",
        }
    }
}

/// How to create a session.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    pub provider: Provider,
    /// Threads ONNX Runtime may use inside one run (0: its default). Hosts that
    /// render on many threads set this low.
    pub intra_threads: usize,
}

/// Errors of sessions.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot open model {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("model {model}: {reason}")]
    Run { model: String, reason: String },
}

/// Name, element type and shape (-1 for a free dimension) of a graph input or output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IoSpec {
    pub name: String,
    /// Element type as ONNX Runtime names it: "f32", "f16", "i64", ...
    pub dtype: String,
    pub shape: Vec<i64>,
}

impl IoSpec {
    fn of(o: &ort::value::Outlet) -> Self {
        let t = o.dtype();
        IoSpec {
            name: o.name().to_string(),
            dtype: t
                .tensor_type()
                .map_or("non-tensor".into(), |e| e.to_string()),
            shape: t
                .tensor_shape()
                .map_or(Vec::new(), |s| s.iter().copied().collect()),
        }
    }

    /// True when a tensor of shape `other` fits this spec (free dimensions match
    /// anything).
    pub fn accepts(&self, other: &IoSpec) -> bool {
        self.name == other.name
            && self.dtype == other.dtype
            && self.shape.len() == other.shape.len()
            && self
                .shape
                .iter()
                .zip(&other.shape)
                .all(|(a, b)| *a < 0 || *b < 0 || a == b)
    }
}

impl std::fmt::Display for IoSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {:?}", self.name, self.dtype, self.shape)
    }
}

/// A float tensor going in or coming out: shape and row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorF32 {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// An integer tensor going in (token ids, attention masks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorI64 {
    pub shape: Vec<usize>,
    pub data: Vec<i64>,
}

/// One named input of a run.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    F32(&'a TensorF32),
    I64(&'a TensorI64),
}

impl Input<'_> {
    fn shape_and_len(&self) -> (&[usize], usize) {
        match self {
            Input::F32(t) => (&t.shape, t.data.len()),
            Input::I64(t) => (&t.shape, t.data.len()),
        }
    }
}

/// A session shared across threads (runs are serialised: ONNX Runtime parallelises
/// inside a run).
pub struct OnnxSession {
    session: Mutex<ort::session::Session>,
    model: String,
    /// The execution provider the session was created with.
    pub provider: Provider,
    pub inputs: Vec<IoSpec>,
    pub outputs: Vec<IoSpec>,
    /// Nanoseconds spent inside ONNX Runtime's own run calls, over all runs (our
    /// tensor conversions excluded): lets callers tell its time from theirs.
    runtime_ns: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for OnnxSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxSession")
            .field("model", &self.model)
            .field("provider", &self.provider)
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .finish()
    }
}

impl OnnxSession {
    /// Opens `model` on the provider `opts` asks for. A provider that cannot be
    /// used falls back to CPU with a warning; the session says which one it got.
    pub fn open(rt: &Runtime, model: &Path, opts: &SessionOptions) -> Result<Self, SessionError> {
        let open_err = |reason: String| SessionError::Open {
            path: model.to_path_buf(),
            reason,
        };
        let wanted: Vec<Provider> = match opts.provider {
            Provider::Auto => {
                let available = rt.execution_providers();
                [
                    Provider::Cuda,
                    Provider::TensorRt,
                    Provider::DirectMl,
                    Provider::CoreMl,
                ]
                .into_iter()
                .filter(|p| available.iter().any(|e| e.name == p.name() && e.available))
                .collect()
            }
            Provider::Cpu => Vec::new(),
            p => vec![p],
        };
        for p in wanted {
            match Self::build(rt, model, opts, Some(p)) {
                Ok(s) => return Ok(s),
                Err(e) => {
                    tracing::warn!(provider = p.name(), error = %e, "execution provider not usable; trying the next")
                }
            }
        }
        Self::build(rt, model, opts, None).map_err(|e| open_err(e.to_string()))
    }

    fn build(
        rt: &Runtime,
        model: &Path,
        opts: &SessionOptions,
        provider: Option<Provider>,
    ) -> Result<Self, SessionError> {
        use ort::ep::{CoreML, DirectML, TensorRT, CUDA};
        let err = |e: String| SessionError::Open {
            path: model.to_path_buf(),
            reason: e,
        };
        // Idle ONNX Runtime threads must not spin: they would take the CPU from
        // our own post-processing and from the host's render threads.
        let mut builder = ort::session::Session::builder(rt.environment())
            .map_err(|e| err(e.to_string()))?
            .with_intra_op_spinning(false)
            .map_err(|e| err(e.to_string()))?;
        if opts.intra_threads > 0 {
            builder = builder
                .with_intra_threads(opts.intra_threads)
                .map_err(|e| err(e.to_string()))?;
        }
        if let Some(p) = provider {
            let ep = match p {
                Provider::Cuda => CUDA::default().build(),
                Provider::TensorRt => TensorRT::default().build(),
                Provider::DirectMl => DirectML::default().build(),
                Provider::CoreMl => CoreML::default().build(),
                Provider::Auto | Provider::Cpu => unreachable!("not a device provider"),
            };
            builder = builder
                .with_execution_providers([ep.error_on_failure()])
                .map_err(|e| err(e.to_string()))?;
        }
        let session = builder
            .commit_from_file(model)
            .map_err(|e| err(e.to_string()))?;
        let inputs = session.inputs().iter().map(IoSpec::of).collect();
        let outputs = session.outputs().iter().map(IoSpec::of).collect();
        Ok(OnnxSession {
            session: Mutex::new(session),
            model: model.display().to_string(),
            provider: provider.unwrap_or(Provider::Cpu),
            inputs,
            outputs,
            runtime_ns: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Total time spent inside ONNX Runtime's run calls of this session so far
    /// (with several threads running it, their times add up).
    pub fn runtime_total(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.runtime_ns.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Runs the model on named float inputs and returns every output, by name.
    pub fn run_f32(
        &self,
        inputs: &[(&str, &TensorF32)],
    ) -> Result<Vec<(String, TensorF32)>, SessionError> {
        let mixed: Vec<(&str, Input)> = inputs.iter().map(|(n, t)| (*n, Input::F32(t))).collect();
        self.run(&mixed)
    }

    /// Runs the model on named inputs of any supported type and returns every
    /// (float) output, by name.
    pub fn run(&self, inputs: &[(&str, Input)]) -> Result<Vec<(String, TensorF32)>, SessionError> {
        let err = |reason: String| SessionError::Run {
            model: self.model.clone(),
            reason,
        };
        let mut values = Vec::with_capacity(inputs.len());
        for (name, t) in inputs {
            let (shape, len) = t.shape_and_len();
            if shape.iter().product::<usize>() != len {
                return Err(err(format!(
                    "input {name}: shape {shape:?} does not hold {len} values"
                )));
            }
            // Half-precision graphs (fp16 packages) take our f32 tensors converted.
            let wants_f16 = self
                .inputs
                .iter()
                .any(|i| i.name == *name && i.dtype == "f16");
            let value: ort::value::DynValue = match t {
                Input::F32(t) if wants_f16 => ort::value::Tensor::from_array((
                    t.shape.clone(),
                    t.data
                        .iter()
                        .map(|&v| half::f16::from_f32(v))
                        .collect::<Vec<_>>(),
                ))
                .map(|v| v.into_dyn()),
                Input::F32(t) => ort::value::Tensor::from_array((t.shape.clone(), t.data.clone()))
                    .map(|v| v.into_dyn()),
                Input::I64(t) => ort::value::Tensor::from_array((t.shape.clone(), t.data.clone()))
                    .map(|v| v.into_dyn()),
            }
            .map_err(|e| err(format!("input {name}: {e}")))?;
            values.push((
                std::borrow::Cow::Owned(name.to_string()),
                ort::session::SessionInputValue::from(value),
            ));
        }
        let mut session = self.session.lock();
        let started = std::time::Instant::now();
        let outputs = session.run(values).map_err(|e| err(e.to_string()))?;
        self.runtime_ns.fetch_add(
            started.elapsed().as_nanos() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        let mut out = Vec::new();
        for (name, value) in outputs.iter() {
            let (shape, data) = match value.try_extract_tensor::<f32>() {
                Ok((shape, data)) => (shape.clone(), data.to_vec()),
                Err(first) => match value.try_extract_tensor::<half::f16>() {
                    Ok((shape, data)) => (shape.clone(), data.iter().map(|v| v.to_f32()).collect()),
                    Err(_) => return Err(err(format!("output {name}: {first}"))),
                },
            };
            out.push((
                name.to_string(),
                TensorF32 {
                    shape: shape.iter().map(|&d| d.max(0) as usize).collect(),
                    data,
                },
            ));
        }
        Ok(out)
    }
}
