//! The 32-byte little-endian header in front of every binary band:
//! `"PTPX"`, u16 version, u16 kind, u32 job, u32 band, u32 y0, u32 rows,
//! u32 width, u8 components, u8 bits, u16 reserved (0); then the samples,
//! interleaved (chunky), little-endian for 16-bit. Preview bands carry a JPEG
//! instead of samples.

use thiserror::Error;

/// The magic bytes that open a band.
pub const MAGIC: [u8; 4] = *b"PTPX";
/// Header length in bytes.
pub const HEADER_LEN: usize = 32;
/// The band format this bridge reads and writes.
pub const BAND_VERSION: u16 = 1;

/// What a band holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum BandKind {
    /// Rows of the document's pixels (panel to bridge).
    Source = 1,
    /// Rows of the selection, one component (panel to bridge).
    Selection = 2,
    /// Rows of the rendered result (bridge to panel, on `result.get`).
    Result = 3,
    /// A JPEG preview (bridge to panel): band 0 the result, band 1 the source.
    Preview = 4,
}

impl BandKind {
    fn from_u16(v: u16) -> Option<Self> {
        Some(match v {
            1 => BandKind::Source,
            2 => BandKind::Selection,
            3 => BandKind::Result,
            4 => BandKind::Preview,
            _ => return None,
        })
    }
}

/// A band's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BandHeader {
    pub kind: BandKind,
    pub job: u32,
    /// Band index (for messages; rows are placed by `y0`).
    pub band: u32,
    /// First row of the band in the job's frame.
    pub y0: u32,
    pub rows: u32,
    pub width: u32,
    /// 1 (selection), 3 (RGB) or 4 (RGBA).
    pub components: u8,
    /// 8 or 16 bits per sample.
    pub bits: u8,
}

/// Why a binary message is not a band.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HeaderError {
    #[error("a band is at least {HEADER_LEN} bytes, this message has {0}")]
    TooShort(usize),
    #[error("the message does not start with \"PTPX\"")]
    BadMagic,
    #[error("band format {0} (this bridge reads {BAND_VERSION}); update the panel and the bridge together")]
    Version(u16),
    #[error("unknown band kind {0}")]
    Kind(u16),
    #[error("reserved header bytes are not zero")]
    Reserved,
    #[error("{0} bits per sample (8 or 16)")]
    Bits(u8),
    #[error("{0} components (1, 3 or 4)")]
    Components(u8),
    #[error("an empty band ({width} x {rows})")]
    Empty { width: u32, rows: u32 },
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl BandHeader {
    /// Reads the header of `message` and returns it with the payload after it.
    /// Only the header's own fields are checked here; whether the band fits its
    /// job is the job's check.
    pub fn parse(message: &[u8]) -> Result<(BandHeader, &[u8]), HeaderError> {
        if message.len() < HEADER_LEN {
            return Err(HeaderError::TooShort(message.len()));
        }
        let h = &message[..HEADER_LEN];
        if h[..4] != MAGIC {
            return Err(HeaderError::BadMagic);
        }
        let version = u16_at(h, 4);
        if version != BAND_VERSION {
            return Err(HeaderError::Version(version));
        }
        let kind = u16_at(h, 6);
        let kind = BandKind::from_u16(kind).ok_or(HeaderError::Kind(kind))?;
        if u16_at(h, 30) != 0 {
            return Err(HeaderError::Reserved);
        }
        let header = BandHeader {
            kind,
            job: u32_at(h, 8),
            band: u32_at(h, 12),
            y0: u32_at(h, 16),
            rows: u32_at(h, 20),
            width: u32_at(h, 24),
            components: h[28],
            bits: h[29],
        };
        if !matches!(header.bits, 8 | 16) {
            return Err(HeaderError::Bits(header.bits));
        }
        if !matches!(header.components, 1 | 3 | 4) {
            return Err(HeaderError::Components(header.components));
        }
        if header.rows == 0 || header.width == 0 {
            return Err(HeaderError::Empty {
                width: header.width,
                rows: header.rows,
            });
        }
        Ok((header, &message[HEADER_LEN..]))
    }

    /// The 32 header bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[..4].copy_from_slice(&MAGIC);
        h[4..6].copy_from_slice(&BAND_VERSION.to_le_bytes());
        h[6..8].copy_from_slice(&(self.kind as u16).to_le_bytes());
        h[8..12].copy_from_slice(&self.job.to_le_bytes());
        h[12..16].copy_from_slice(&self.band.to_le_bytes());
        h[16..20].copy_from_slice(&self.y0.to_le_bytes());
        h[20..24].copy_from_slice(&self.rows.to_le_bytes());
        h[24..28].copy_from_slice(&self.width.to_le_bytes());
        h[28] = self.components;
        h[29] = self.bits;
        h
    }

    /// Bytes of samples the header announces (`None` if that overflows).
    pub fn sample_bytes(&self) -> Option<usize> {
        (self.rows as usize)
            .checked_mul(self.width as usize)?
            .checked_mul(self.components as usize)?
            .checked_mul(self.bits as usize / 8)
    }

    /// The header followed by `payload`, as one message body.
    pub fn with_payload(&self, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(HEADER_LEN + payload.len());
        v.extend_from_slice(&self.encode());
        v.extend_from_slice(payload);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BandHeader {
        BandHeader {
            kind: BandKind::Source,
            job: 7,
            band: 2,
            y0: 232,
            rows: 116,
            width: 6000,
            components: 3,
            bits: 16,
        }
    }

    #[test]
    fn round_trips_and_checks_each_field() {
        let h = sample();
        let msg = h.with_payload(&[1, 2, 3]);
        let (back, payload) = BandHeader::parse(&msg).unwrap();
        assert_eq!(back, h);
        assert_eq!(payload, &[1, 2, 3]);
        assert_eq!(h.sample_bytes(), Some(116 * 6000 * 3 * 2));

        let bad = |at: usize, v: u8| {
            let mut m = h.with_payload(&[]);
            m[at] = v;
            BandHeader::parse(&m).unwrap_err()
        };
        assert_eq!(bad(0, b'X'), HeaderError::BadMagic);
        assert_eq!(bad(4, 2), HeaderError::Version(2));
        assert_eq!(bad(6, 9), HeaderError::Kind(9));
        assert_eq!(bad(28, 2), HeaderError::Components(2));
        assert_eq!(bad(29, 32), HeaderError::Bits(32));
        assert_eq!(bad(31, 1), HeaderError::Reserved);
        assert_eq!(
            BandHeader::parse(&msg[..31]).unwrap_err(),
            HeaderError::TooShort(31)
        );
        assert!(matches!(bad(20, 0), HeaderError::Empty { .. }));
    }

    #[test]
    fn huge_sizes_do_not_overflow() {
        let h = BandHeader {
            rows: u32::MAX,
            width: u32::MAX,
            components: 4,
            bits: 16,
            ..sample()
        };
        // On 64-bit targets this fits; what matters is that it never wraps.
        let n = h.sample_bytes();
        assert!(n.is_none() || n.unwrap() >= u32::MAX as usize);
    }
}
