//! The core's one error type: each variant says what failed and where.

use std::path::PathBuf;

/// Result alias for the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

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

    /// The image could not be read.
    #[error("cannot read image {path}: {reason}")]
    Decode { path: PathBuf, reason: String },

    /// The image is larger than the configured limits allow.
    #[error("image {path} is {width} x {height} ({megapixels:.1} megapixels), above the limit of {limit:.0} megapixels; raise the limit if you trust the file")]
    TooLarge {
        path: PathBuf,
        width: u32,
        height: u32,
        megapixels: f64,
        limit: f64,
    },

    /// The image could not be written.
    #[error("cannot write image {path}: {reason}")]
    Encode { path: PathBuf, reason: String },

    /// A level table file is malformed.
    #[error("invalid level tables: {0}")]
    InvalidTables(String),

    /// Image dimensions or a request do not make sense (zero size, region outside the image).
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// A model package could not be opened or run.
    #[error("model {model}: {reason}")]
    Model { model: String, reason: String },

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
}
