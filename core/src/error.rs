//! The core's one error type: each variant says what failed and where, in words a
//! user can act on, and keeps the error underneath it (a decoder's, ONNX
//! Runtime's, the file system's) as its [`source`](std::error::Error::source)
//! rather than flattening it into text. [`Error::with_causes`] gives the whole
//! chain as one line for hosts that show a single message.

use std::path::PathBuf;

/// Result alias for the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error underneath a core error.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything the core can fail with. Messages name the offending key, file or region.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The region-state JSON is not valid JSON or not shaped as regions of attributes.
    #[error("invalid region state: {0}")]
    InvalidState(String),

    /// A region is named in a state but no mask for it was given.
    #[error("no mask for region \"{region}\" (available: {available})")]
    MissingRegion { region: String, available: String },

    /// A region name no segmenter (or mask) provides.
    #[error("no segmenter can find \"{region}\"; available regions: {available}")]
    UnknownRegion { region: String, available: String },

    /// A mask does not fit the image or is otherwise unusable.
    #[error("mask \"{region}\": {reason}")]
    InvalidMask { region: String, reason: String },

    /// The image could not be read: `reason` says what is wrong with the file and
    /// what to do; `source` is the decoder's own error, when there is one.
    #[error("cannot read image {path}: {reason}")]
    Decode {
        path: PathBuf,
        reason: String,
        #[source]
        source: Option<Cause>,
    },

    /// The image is larger than the configured limits allow.
    #[error("image {path} is {width} x {height} ({megapixels:.1} megapixels), above the limit of {limit:.0} megapixels; raise the limit if you trust the file")]
    TooLarge {
        path: PathBuf,
        width: u32,
        height: u32,
        megapixels: f64,
        limit: f64,
    },

    /// The image could not be written; `source` is the encoder's error, if any.
    #[error("cannot write image {path}: {reason}")]
    Encode {
        path: PathBuf,
        reason: String,
        #[source]
        source: Option<Cause>,
    },

    /// Writing `output` would destroy `other`, a file the same command reads or
    /// writes (the same path, a symbolic or hard link to it). Nothing was written.
    #[error("{output} is the same file as {what}: {other}; nothing was written, choose another output file")]
    OutputClash {
        output: PathBuf,
        other: PathBuf,
        /// What `other` is to the command: "the input photo", "mask \"sky\"",
        /// "the --report output", ...
        what: String,
    },

    /// A level table file is malformed.
    #[error("invalid level tables: {0}")]
    InvalidTables(String),

    /// Image dimensions or a request do not make sense (zero size, region outside the image).
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// A model package could not be opened or run; `source` is the package's or
    /// ONNX Runtime's error, if any.
    #[error("model {model}: {reason}")]
    Model {
        model: String,
        reason: String,
        #[source]
        source: Option<Cause>,
    },

    /// The caller cancelled the operation.
    #[error("cancelled")]
    Cancelled,

    /// Plain I/O on a named file.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A model failure in our own words, with nothing underneath.
    pub fn model(model: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Error::Model {
            model: model.into(),
            reason: reason.to_string(),
            source: None,
        }
    }

    /// A model failure caused by `source` (a package, session or runtime error).
    pub fn model_caused(
        model: impl Into<String>,
        reason: impl std::fmt::Display,
        source: impl Into<Cause>,
    ) -> Self {
        Error::Model {
            model: model.into(),
            reason: reason.to_string(),
            source: Some(source.into()),
        }
    }

    /// This error's message followed by each cause's, joined by ": " (for hosts
    /// that show one line: the C ABI's last error, a plug-in's message).
    pub fn with_causes(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            let more = c.to_string();
            // Some wrapped errors already repeat their cause in their message.
            if !text.contains(&more) {
                text.push_str(": ");
                text.push_str(&more);
            }
            cause = c.source();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_kept_and_joined_once() {
        let inner = std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "failed to fill whole buffer",
        );
        let e = Error::Decode {
            path: "a.tif".into(),
            reason: "the file ends early".into(),
            source: Some(Box::new(inner)),
        };
        assert_eq!(
            e.to_string(),
            "cannot read image a.tif: the file ends early"
        );
        assert_eq!(
            std::error::Error::source(&e).map(|s| s.to_string()),
            Some("failed to fill whole buffer".into())
        );
        assert_eq!(
            e.with_causes(),
            "cannot read image a.tif: the file ends early: failed to fill whole buffer"
        );
        let m = Error::model_caused("seg", "cannot open it", "bad magic");
        assert_eq!(m.with_causes(), "model seg: cannot open it: bad magic");
        assert!(std::error::Error::source(&Error::model("seg", "x")).is_none());
    }
}
