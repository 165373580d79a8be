//! Status codes, and which one each core error gets. A code never changes
//! meaning; new codes are added at the end (hosts treat any code they do not
//! know as a failure and show `pt_last_error`).

use pertouch_core::Error;

/// What a call returns. `PT_OK` is 0; everything else leaves a message for
/// `pt_last_error` on the calling thread.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PtStatus {
    /// Success.
    PT_OK = 0,
    /// A required pointer was null.
    PT_ERR_NULL = 1,
    /// An argument is out of range or malformed (the message says which).
    PT_ERR_INVALID = 2,
    /// A handle that is not live (never created, already freed, or of another kind).
    PT_ERR_BAD_HANDLE = 3,
    /// The work was cancelled.
    PT_ERR_CANCELLED = 4,
    /// A region, segmenter or model problem: a region no segmenter finds, a
    /// missing or broken model package, level tables that do not load.
    PT_ERR_MODEL = 5,
    /// An output buffer is too small; `needed` says how large it must be.
    PT_ERR_BUFFER_TOO_SMALL = 6,
    /// A bug: the core panicked. The message says where; the handle stays usable.
    PT_ERR_INTERNAL = 7,
    /// A file could not be read or written (the message names it and says why).
    PT_ERR_IO = 8,
    /// A file was read but its contents could not be decoded (a corrupt or
    /// unsupported image or mask; the message names it).
    PT_ERR_DECODE = 9,
}

/// The status for a core error. Every variant is mapped here on purpose (no
/// catch-all), so a variant added to the core does not compile until it is.
pub(crate) fn of(e: &Error) -> PtStatus {
    match e {
        Error::InvalidState(..) | Error::InvalidRequest(..) => PtStatus::PT_ERR_INVALID,
        // Above a configured size limit: the message says which and how to raise it.
        Error::TooLarge { .. } => PtStatus::PT_ERR_INVALID,
        Error::MissingRegion { .. } | Error::UnknownRegion { .. } | Error::InvalidMask { .. } => {
            PtStatus::PT_ERR_MODEL
        }
        // Level tables come with model packages (or a calibration run).
        Error::Model { .. } | Error::InvalidTables(..) => PtStatus::PT_ERR_MODEL,
        Error::Decode { .. } => PtStatus::PT_ERR_DECODE,
        Error::Encode { .. } | Error::Io { .. } => PtStatus::PT_ERR_IO,
        // An output that would overwrite an input: nothing was written.
        Error::OutputClash { .. } => PtStatus::PT_ERR_IO,
        Error::Cancelled => PtStatus::PT_ERR_CANCELLED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pertouch_core::image_io::{load, LoadOptions};

    #[test]
    fn io_and_decode_failures_are_not_reported_as_invalid_arguments() {
        let dir = std::env::temp_dir().join(format!("pertouch-capi-status-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = load(&dir.join("missing.png"), &LoadOptions::default()).unwrap_err();
        assert_eq!(of(&missing), PtStatus::PT_ERR_IO, "{missing}");
        let garbage = dir.join("garbage.png");
        std::fs::write(&garbage, b"not an image at all").unwrap();
        let corrupt = load(&garbage, &LoadOptions::default()).unwrap_err();
        assert_eq!(of(&corrupt), PtStatus::PT_ERR_DECODE, "{corrupt}");
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(of(&Error::Cancelled), PtStatus::PT_ERR_CANCELLED);
    }
}
