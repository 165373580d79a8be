//! Host pixel memory: a checked view of interleaved 8-bit, 16-bit or float samples
//! that a host owns (a C caller's buffer, an OpenFX image, a GIMP buffer), read
//! into and written from the core's rasters. The only module of the core with
//! `unsafe` code: a view is created under the host's promise that its memory is
//! there ([`PixelView::new`]), and every access after that stays inside the rows
//! and row length that promise covers.
#![allow(unsafe_code)]

use crate::plane::Plane;
use crate::raster::{Depth, Raster, Sample, Samples};
use std::marker::PhantomData;

/// How many rows a frame's content hash reads.
const HASHED_ROWS: usize = 64;

/// The rows a content hash reads: [`HASHED_ROWS`] evenly spaced from the first to
/// the last (all of them in a shorter frame).
pub(crate) fn sampled_rows(height: usize) -> impl Iterator<Item = usize> {
    let rows = HASHED_ROWS.min(height);
    (0..rows).map(move |k| {
        if rows > 1 {
            k * (height - 1) / (rows - 1)
        } else {
            0
        }
    })
}

/// Largest image side accepted (beyond any camera or 16K frame).
pub const MAX_SIDE: usize = 1 << 15;

/// Largest row step accepted, in bytes (2 GiB): hosts keep strides in a 32-bit
/// int (OpenFX, GEGL, Cairo, Photoshop), and a larger one is a wrong argument,
/// not an image; it also keeps every row offset far from overflowing.
pub const MAX_ROW_BYTES: usize = 1 << 31;

/// The lowest address and the length in bytes of `height` rows of `row` bytes,
/// `row_step` apart, the top one at `data`; `None` when that cannot be memory
/// (below address 0, or longer than any allocation may be).
fn extent(data: usize, height: usize, row_step: isize, row: usize) -> Option<(usize, usize)> {
    let between = (height - 1).checked_mul(row_step.unsigned_abs())?;
    let extent = between
        .checked_add(row)
        .filter(|&n| n <= isize::MAX as usize)?;
    let lowest = if row_step < 0 {
        data.checked_sub(between)?
    } else {
        data
    };
    Some((lowest, extent))
}

/// A checked view of a host's pixels. Row 0 is the top row; `row_step` (bytes from
/// one row to the next one down) is negative for bottom-up memory such as
/// OpenFX's. Float samples are sRGB-encoded, 0..1 nominal.
pub struct PixelView<'a> {
    data: *mut u8,
    width: usize,
    height: usize,
    row_step: isize,
    channels: usize,
    depth: Depth,
    _memory: PhantomData<&'a mut [u8]>,
}

// SAFETY: a view is a pointer into memory the host lent for the lifetime 'a
// under `new`'s contract, which does not tie it to a thread; views made by
// `bands` cover disjoint rows, so moving them to other threads shares nothing.
unsafe impl Send for PixelView<'_> {}
// SAFETY: shared access only reads (writing takes `&mut self`), and the host's
// memory may be read from several threads at once.
unsafe impl Sync for PixelView<'_> {}

fn sample_bytes(depth: Depth) -> usize {
    depth.bytes()
}

impl<'a> PixelView<'a> {
    /// Checks the description (not the contents): non-null, 1 to 4 channels, sides
    /// 1 to [`MAX_SIDE`], a row step that holds a row and is at most
    /// [`MAX_ROW_BYTES`], samples aligned, and memory (from the lowest row's first
    /// byte to the highest row's last) that is a possible address range: no
    /// offset computed later can overflow or wrap around the address space.
    ///
    /// # Safety
    /// For the lifetime `'a`, `data + y * row_step` must point at `width * channels`
    /// readable samples of `depth` for every row `y` in `0..height`, writable too if
    /// the view is written to, and not accessed by anyone else while it is written.
    pub unsafe fn new(
        data: *mut u8,
        width: usize,
        height: usize,
        row_step: isize,
        channels: usize,
        depth: Depth,
    ) -> Result<Self, String> {
        if data.is_null() {
            return Err("pixel data is null".into());
        }
        if !(1..=4).contains(&channels) {
            return Err(format!("{channels} channels (1 to 4)"));
        }
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(format!(
                "size {width} x {height} (each side 1 to {MAX_SIDE})"
            ));
        }
        let bytes = sample_bytes(depth);
        let row = width * channels * bytes; // at most 2^15 * 4 * 4
        let step = row_step.unsigned_abs();
        if step < row {
            return Err(format!(
                "rows are {step} bytes apart but a row is {row} bytes"
            ));
        }
        if step > MAX_ROW_BYTES {
            return Err(format!(
                "rows are {step} bytes apart, more than {MAX_ROW_BYTES} (no image has such rows: is row_bytes right?)"
            ));
        }
        if !data.addr().is_multiple_of(bytes) || !step.is_multiple_of(bytes) {
            return Err(format!(
                "pixel data or row step not aligned to the {bytes}-byte sample size"
            ));
        }
        let too_far = || {
            format!(
                "{height} rows {row_step} bytes apart from address {:#x} run past the end of memory",
                data.addr()
            )
        };
        let (lowest, extent) = extent(data.addr(), height, row_step, row).ok_or_else(too_far)?;
        if lowest.checked_add(extent).is_none() {
            return Err(too_far());
        }
        Ok(PixelView {
            data,
            width,
            height,
            row_step,
            channels,
            depth,
            _memory: PhantomData,
        })
    }

    /// The host memory the view covers, as addresses: from the first byte of its
    /// lowest row to just past the last byte of its highest.
    pub fn memory(&self) -> std::ops::Range<usize> {
        let row = self.width * self.channels * sample_bytes(self.depth);
        // `new` checked this very computation.
        let (lowest, extent) =
            extent(self.data.addr(), self.height, self.row_step, row).unwrap_or((0, 0));
        lowest..lowest + extent
    }

    /// True when the two views share any byte of memory (a render's source and
    /// destination must not: the destination is written while the source is read).
    pub fn overlaps(&self, other: &PixelView<'_>) -> bool {
        let (a, b) = (self.memory(), other.memory());
        a.start < b.end && b.start < a.end
    }

    pub fn width(&self) -> usize {
        self.width
    }
    pub fn height(&self) -> usize {
        self.height
    }
    pub fn channels(&self) -> usize {
        self.channels
    }
    pub fn depth(&self) -> Depth {
        self.depth
    }

    /// The first byte of pixel `x0` of row `y`, for `n` pixels of that row.
    fn row_start(&self, y: usize, x0: usize, n: usize) -> *mut u8 {
        assert!(
            y < self.height && x0.checked_add(n).is_some_and(|end| end <= self.width),
            "row access inside the view"
        );
        // y < height and `new` bounded (height - 1) row steps by isize::MAX and
        // the address space, so neither product can overflow.
        let offset = (y as isize).checked_mul(self.row_step);
        let Some(offset) = offset else {
            panic!("row {y} lies outside the view's checked memory")
        };
        // SAFETY: `new`'s contract makes `data + y * row_step` the start of row y
        // of the host's memory (so inside it, as `offset` requires), and `new`
        // checked that the offset neither overflows nor wraps the address space;
        // x0 <= width keeps the second step inside the row.
        unsafe {
            self.data
                .offset(offset)
                .add(x0 * self.channels * sample_bytes(self.depth))
        }
    }

    /// Samples `x0..x0 + n` (in pixels) of row `y`, as bytes.
    fn row_bytes(&self, y: usize, x0: usize, n: usize) -> &[u8] {
        let start = self.row_start(y, x0, n);
        // SAFETY: `new`'s contract makes row `y` readable for `width` pixels from
        // its start; `row_start` checked x0 + n <= width, keeping the slice inside.
        unsafe { std::slice::from_raw_parts(start, n * self.channels * sample_bytes(self.depth)) }
    }

    /// Mutable samples of row `y`, as bytes.
    fn row_bytes_mut(&mut self, y: usize, x0: usize, n: usize) -> &mut [u8] {
        let start = self.row_start(y, x0, n);
        // SAFETY: as in `row_bytes`, and the contract makes a written view's memory
        // writable and exclusively ours; `&mut self` keeps our own slices apart.
        unsafe {
            std::slice::from_raw_parts_mut(start, n * self.channels * sample_bytes(self.depth))
        }
    }

    /// Row `y`'s samples from pixel `x0`, `n` pixels, typed.
    fn row<T: Copy>(&self, y: usize, x0: usize, n: usize) -> &[T] {
        let b = self.row_bytes(y, x0, n);
        assert_eq!(
            std::mem::size_of::<T>(),
            sample_bytes(self.depth),
            "sample type of the view"
        );
        // SAFETY: `new` checked that data and the row step are multiples of the
        // sample size, so every row start (and x0 samples into it) is aligned for
        // T; the byte length is a whole number of T; T is a plain number type.
        unsafe {
            std::slice::from_raw_parts(b.as_ptr().cast::<T>(), b.len() / std::mem::size_of::<T>())
        }
    }

    fn row_mut<T: Copy>(&mut self, y: usize, x0: usize, n: usize) -> &mut [T] {
        assert_eq!(
            std::mem::size_of::<T>(),
            sample_bytes(self.depth),
            "sample type of the view"
        );
        let b = self.row_bytes_mut(y, x0, n);
        // SAFETY: as in `row`, for a uniquely borrowed row.
        unsafe {
            std::slice::from_raw_parts_mut(
                b.as_mut_ptr().cast::<T>(),
                b.len() / std::mem::size_of::<T>(),
            )
        }
    }

    fn check_rect(&self, x0: usize, y0: usize, w: usize, h: usize) -> Result<(), String> {
        let fits =
            |at: usize, len: usize, side: usize| at.checked_add(len).is_some_and(|e| e <= side);
        if w == 0 || h == 0 || !fits(x0, w, self.width) || !fits(y0, h, self.height) {
            return Err(format!(
                "rectangle {w} x {h} at ({x0}, {y0}) is not inside the {} x {} image",
                self.width, self.height
            ));
        }
        Ok(())
    }

    /// The `w` x `h` rectangle at (`x0`, `y0`) as a raster of the view's depth
    /// (non-finite floats become 0). RGB and RGBA views only.
    pub fn read_rect(&self, x0: usize, y0: usize, w: usize, h: usize) -> Result<Raster, String> {
        if self.channels < 3 {
            return Err(format!(
                "{} channels: an image needs RGB or RGBA",
                self.channels
            ));
        }
        self.check_rect(x0, y0, w, h)?;
        let samples = match self.depth {
            // Integer rows: one sequential copy (measured faster than splitting
            // it over threads here); float rows also need cleaning, in parallel.
            Depth::U8 => {
                let mut v = Vec::with_capacity(w * self.channels * h);
                (y0..y0 + h).for_each(|y| v.extend_from_slice(self.row::<u8>(y, x0, w)));
                Samples::U8(v)
            }
            Depth::U16 => {
                let mut v = Vec::with_capacity(w * self.channels * h);
                (y0..y0 + h).for_each(|y| v.extend_from_slice(self.row::<u16>(y, x0, w)));
                Samples::U16(v)
            }
            Depth::F32 => Samples::F32(self.copy_rows(x0, y0, w, h, |row: &mut [f32]| {
                for f in row {
                    if !f.is_finite() {
                        *f = 0.0;
                    }
                }
            })),
        };
        Raster::new(w, h, self.channels, samples).ok_or_else(|| "raster sizes".to_string())
    }

    /// [`PixelView::read_rect`] into `out` on the calling thread, keeping `out`'s
    /// memory where it has the rectangle's layout already ([`Raster::reshape`]):
    /// for band buffers a renderer reuses from band to band.
    pub fn read_rect_into(
        &self,
        (x0, y0): (usize, usize),
        (w, h): (usize, usize),
        out: &mut Raster,
    ) -> Result<(), String> {
        if self.channels < 3 {
            return Err(format!(
                "{} channels: an image needs RGB or RGBA",
                self.channels
            ));
        }
        self.check_rect(x0, y0, w, h)?;
        if !out.reshape(w, h, self.channels, self.depth) {
            return Err("raster sizes".to_string());
        }
        let n = w * self.channels;
        match out.samples_mut() {
            Samples::U8(v) => {
                for (y, row) in v.chunks_exact_mut(n).enumerate() {
                    row.copy_from_slice(self.row::<u8>(y0 + y, x0, w));
                }
            }
            Samples::U16(v) => {
                for (y, row) in v.chunks_exact_mut(n).enumerate() {
                    row.copy_from_slice(self.row::<u16>(y0 + y, x0, w));
                }
            }
            Samples::F32(v) => {
                for (y, row) in v.chunks_exact_mut(n).enumerate() {
                    for (o, &f) in row.iter_mut().zip(self.row::<f32>(y0 + y, x0, w)) {
                        *o = if f.is_finite() { f } else { 0.0 };
                    }
                }
            }
        }
        Ok(())
    }

    /// Rows of the rectangle copied into one buffer on the core's threads (a 4K
    /// float frame is 130 MB), each row then passed to `fix`.
    fn copy_rows<T: Copy + Default + Send + Sync>(
        &self,
        x0: usize,
        y0: usize,
        w: usize,
        h: usize,
        fix: impl Fn(&mut [T]) + Sync,
    ) -> Vec<T> {
        use rayon::prelude::*;
        let n = w * self.channels;
        let mut v = vec![T::default(); n * h];
        v.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
            row.copy_from_slice(self.row::<T>(y0 + i, x0, w));
            fix(row);
        });
        v
    }

    /// The whole view as a raster.
    pub fn read(&self) -> Result<Raster, String> {
        self.read_rect(0, 0, self.width, self.height)
    }

    /// Splits the view into bands of `rows` rows (the last may be shorter), each a
    /// view of its own rows that can go to another thread.
    pub fn bands(&mut self, rows: usize) -> Vec<PixelView<'_>> {
        let rows = rows.max(1);
        (0..self.height)
            .step_by(rows)
            .map(|y| PixelView {
                data: self.row_start(y, 0, self.width),
                width: self.width,
                height: rows.min(self.height - y),
                row_step: self.row_step,
                channels: self.channels,
                depth: self.depth,
                _memory: PhantomData,
            })
            .collect()
    }

    /// One channel (`channel` < channels; the last is alpha for 2- and 4-channel
    /// views) of the whole view as a plane of values in [0, 1]: a host's matte.
    pub fn read_channel(&self, channel: usize) -> Result<Plane, String> {
        if channel >= self.channels {
            return Err(format!(
                "channel {channel} of a {}-channel image",
                self.channels
            ));
        }
        fn column<T: Sample>(v: &PixelView<'_>, c: usize, out: &mut Vec<f32>) {
            for y in 0..v.height {
                let row = v.row::<T>(y, 0, v.width);
                out.extend(row.iter().skip(c).step_by(v.channels).map(|s| {
                    let u = s.to_unit();
                    if u.is_finite() {
                        u.clamp(0.0, 1.0)
                    } else {
                        0.0
                    }
                }));
            }
        }
        let mut out = Vec::with_capacity(self.width * self.height);
        match self.depth {
            Depth::U8 => column::<u8>(self, channel, &mut out),
            Depth::U16 => column::<u16>(self, channel, &mut out),
            Depth::F32 => column::<f32>(self, channel, &mut out),
        }
        Plane::from_vec(self.width, self.height, out).ok_or_else(|| "plane sizes".to_string())
    }

    /// Writes `r` at (`x0`, `y0`), converting samples to the view's depth. The
    /// raster must have the view's channel count and fit inside it.
    pub fn write_rect(&mut self, x0: usize, y0: usize, r: &Raster) -> Result<(), String> {
        if r.channels() != self.channels {
            return Err(format!(
                "the render has {} channels, the image {}",
                r.channels(),
                self.channels
            ));
        }
        let w = r.width();
        self.check_rect(x0, y0, w, r.height())?;
        let n = w * r.channels();
        /// Converts samples of another depth into `dst`.
        fn convert<D: Sample>(src: &Samples, range: std::ops::Range<usize>, dst: &mut [D]) {
            fn each<S: Sample, D: Sample>(src: &[S], dst: &mut [D]) {
                for (o, v) in dst.iter_mut().zip(src) {
                    *o = D::from_unit(v.to_unit());
                }
            }
            match src {
                Samples::U8(s) => each(&s[range], dst),
                Samples::U16(s) => each(&s[range], dst),
                Samples::F32(s) => each(&s[range], dst),
            }
        }
        for y in 0..r.height() {
            let (base, ty) = (y * n, y0 + y);
            let range = base..base + n;
            match (self.depth, r.samples()) {
                (Depth::U8, Samples::U8(s)) => {
                    self.row_mut::<u8>(ty, x0, w).copy_from_slice(&s[range])
                }
                (Depth::U16, Samples::U16(s)) => {
                    self.row_mut::<u16>(ty, x0, w).copy_from_slice(&s[range])
                }
                (Depth::F32, Samples::F32(s)) => {
                    self.row_mut::<f32>(ty, x0, w).copy_from_slice(&s[range])
                }
                (Depth::U8, s) => convert(s, range, self.row_mut::<u8>(ty, x0, w)),
                (Depth::U16, s) => convert(s, range, self.row_mut::<u16>(ty, x0, w)),
                (Depth::F32, s) => convert(s, range, self.row_mut::<f32>(ty, x0, w)),
            }
        }
        Ok(())
    }

    /// A hash of 64 evenly spaced rows (every byte of them) with the size, channel
    /// count and depth: what tells one frame from another for a host's frame cache
    /// without reading the whole frame.
    pub fn content_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (
            self.width,
            self.height,
            self.channels,
            sample_bytes(self.depth),
        )
            .hash(&mut h);
        for y in sampled_rows(self.height) {
            self.row_bytes(y, 0, self.width).hash(&mut h);
        }
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bottom_up_memory_reads_top_row_first_and_round_trips() {
        // 2 x 3 RGB u8 stored bottom-up with 2 bytes of padding per row.
        let stride = 8usize;
        let mut mem = vec![0u8; stride * 3];
        for y in 0..3 {
            for x in 0..2 {
                for c in 0..3 {
                    // Memory row m holds image row 2 - m.
                    mem[(2 - y) * stride + x * 3 + c] = (y * 100 + x * 10 + c) as u8;
                }
            }
        }
        let top = mem.as_mut_ptr().wrapping_add(2 * stride);
        // SAFETY: `top` is the last memory row; three rows stepping back by
        // `stride` stay inside `mem`, which outlives the view.
        let mut v = unsafe { PixelView::new(top, 2, 3, -(stride as isize), 3, Depth::U8) }.unwrap();
        let r = v.read().unwrap();
        let Samples::U8(s) = r.samples() else {
            panic!()
        };
        assert_eq!(&s[..6], &[0, 1, 2, 10, 11, 12]);
        assert_eq!(&s[12..], &[200, 201, 202, 210, 211, 212]);
        let tile = v.read_rect(1, 1, 1, 2).unwrap();
        let Samples::U8(t) = tile.samples() else {
            panic!()
        };
        assert_eq!(t, &[110, 111, 112, 210, 211, 212]);
        let h = v.content_hash();
        v.write_rect(1, 1, &tile).unwrap();
        assert_eq!(v.content_hash(), h);
        assert!(v.write_rect(1, 2, &tile).is_err());
    }

    /// Reading into a reused raster (of another size and depth at first) gives
    /// what a new read gives, non-finite floats cleaned the same way.
    #[test]
    fn reading_into_a_reused_raster_matches_a_new_read() {
        let (w, h, ch) = (5usize, 4usize, 4usize);
        let stride = w * ch + 3;
        let mut mem: Vec<f32> = (0..stride * h).map(|i| i as f32 / 100.0).collect();
        mem[stride + 2] = f32::NAN;
        mem[2 * stride + 7] = f32::INFINITY;
        let top = mem.as_mut_ptr().wrapping_add((h - 1) * stride).cast::<u8>();
        // SAFETY: `top` is the last memory row; h rows stepping back by `stride`
        // floats stay inside `mem`, which outlives the view.
        let v =
            unsafe { PixelView::new(top, w, h, -((stride * 4) as isize), ch, Depth::F32) }.unwrap();
        let mut out = Raster::zeroed(7, 9, 3, Depth::U8).unwrap();
        for (x0, y0, rw, rh) in [(0, 0, w, h), (1, 1, 3, 2), (4, 3, 1, 1)] {
            v.read_rect_into((x0, y0), (rw, rh), &mut out).unwrap();
            assert_eq!(
                out,
                v.read_rect(x0, y0, rw, rh).unwrap(),
                "{rw} x {rh} at ({x0}, {y0})"
            );
        }
        let Samples::F32(s) = out.samples() else {
            panic!("float samples")
        };
        assert!(s.iter().all(|f| f.is_finite()));
        assert!(v.read_rect_into((3, 0), (3, 1), &mut out).is_err());
    }

    #[test]
    fn bad_descriptions_are_refused() {
        let mut mem = vec![0f32; 64];
        let p = mem.as_mut_ptr().cast::<u8>();
        // SAFETY: (all below) only checks run; nothing is read from refused views.
        unsafe {
            assert!(PixelView::new(std::ptr::null_mut(), 1, 1, 16, 4, Depth::F32).is_err());
            assert!(PixelView::new(p, 2, 2, 16, 4, Depth::F32).is_err()); // row is 32 bytes
            assert!(PixelView::new(p.add(1), 1, 1, 16, 4, Depth::F32).is_err()); // misaligned
            assert!(PixelView::new(p, 0, 1, 16, 4, Depth::F32).is_err());
            assert!(PixelView::new(p, 1, 1, 16, 5, Depth::F32).is_err());
            assert!(PixelView::new(p, 1, 1, 16, 4, Depth::F32).is_ok());
        }
    }

    #[test]
    fn strides_that_would_overflow_or_wrap_are_refused() {
        let mut mem = vec![0u8; 64];
        let p = mem.as_mut_ptr();
        let refused = |data: *mut u8, height: usize, step: isize| {
            // SAFETY: only the description is checked; a refused view reads nothing.
            let r = unsafe { PixelView::new(data, 2, height, step, 3, Depth::U8) };
            assert!(
                r.is_err(),
                "height {height}, step {step} at {:#x} accepted",
                data.addr()
            );
            r.err().unwrap_or_default()
        };
        for height in [2, 3, 4, 64] {
            for step in [
                1isize << 62,
                isize::MAX,
                isize::MIN,
                -(1isize << 62),
                1 << 40,
                3 << 31,
            ] {
                assert!(refused(p, height, step).contains("rows are"));
            }
        }
        // Within the stride limit, but the rows would run past either end of the
        // address space: below 0 for a bottom-up view, past the top for top-down.
        let low = std::ptr::without_provenance_mut::<u8>(0x1000);
        assert!(refused(low, 3, -(1 << 20)).contains("past the end of memory"));
        let high = std::ptr::without_provenance_mut::<u8>(usize::MAX - 0xFFF);
        assert!(refused(high, 2, 1 << 20).contains("past the end of memory"));
        // SAFETY: 2 rows of 6 bytes 8 apart lie inside `mem`.
        let ok = unsafe { PixelView::new(p, 2, 2, 8, 3, Depth::U8) };
        assert!(ok.is_ok());
    }

    #[test]
    fn overlapping_views_are_told_apart_from_neighbours() {
        let mut mem = vec![0u8; 8 * 6];
        let p = mem.as_mut_ptr();
        // SAFETY: (all below) views of rows inside `mem`; nothing is read.
        let view = |row: usize, height: usize, step: isize| unsafe {
            PixelView::new(p.add(row * 8), 2, height, step, 3, Depth::U8).unwrap()
        };
        let top = view(0, 3, 8);
        assert!(top.overlaps(&view(2, 2, 8)));
        assert!(!top.overlaps(&view(3, 3, 8)));
        // Bottom-up: row 0 is memory row 5, rows 1 and 2 below it.
        let bottom_up = view(5, 3, -8);
        assert_eq!(bottom_up.memory().len(), 2 * 8 + 6);
        assert!(bottom_up.overlaps(&view(3, 1, 8)));
        assert!(!bottom_up.overlaps(&view(0, 3, 8)));
        assert!(top.overlaps(&top));
    }
}
