//! ONNX Runtime: finding and loading the library, and what it can run on.
//!
//! `ort` is built with `load-dynamic`: nothing about ONNX Runtime is linked into
//! the core, which builds and runs all its non-ONNX features without it. The
//! library is looked up and loaded on first use (see [`runtime::load`]); a missing
//! or too old library is an error that says how to install the right one.

pub mod package;
pub mod runtime;
pub mod session;

pub use package::{Manifest, Package, PackageError};
pub use runtime::{
    load, ExecutionProviderStatus, Runtime, RuntimeConfig, RuntimeError, RuntimeSource,
};
pub use session::{
    Input, IoSpec, OnnxSession, Provider, SessionError, SessionOptions, TensorF32, TensorI64,
};
