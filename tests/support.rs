//! Shared helpers for the end-to-end tests: sample photos and region masks derived
//! from them.

use pertouch_core::image_io::{load, LoadOptions};
use pertouch_core::plane::Plane;
use pertouch_core::raster::Raster;
use std::path::PathBuf;

/// The shared sample folder (../shared/samples from the repository root).
pub fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples")
}

/// Every sample photo, sorted by name.
pub fn sample_photos() -> Vec<(String, Raster)> {
    photos_in(&samples_dir())
}

/// Every PNG or JPEG photo in `dir` (at least 6), sorted by name.
pub fn photos_in(dir: &std::path::Path) -> Vec<(String, Raster)> {
    let dir = dir.to_path_buf();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("png" | "jpg" | "jpeg")
            )
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 6,
        "expected at least 6 photos in {}",
        dir.display()
    );
    files
        .into_iter()
        .map(|p| {
            let name = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let img = load(&p, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
            (name, img.raster)
        })
        .collect()
}

/// A rough band mask over the top `fraction` of the frame (where skies are).
pub fn top_band(w: usize, h: usize, fraction: f32) -> Plane {
    let cut = (h as f32 * fraction) as usize;
    Plane::from_vec(
        w,
        h,
        (0..w * h)
            .map(|k| if k / w < cut { 1.0 } else { 0.0 })
            .collect(),
    )
    .expect("sizes match")
}

/// A binary mask of the brighter half of the photo (by luma): an irregular,
/// content-following region like a segmenter's.
pub fn bright_half(img: &Raster) -> Plane {
    let (w, h) = (img.width(), img.height());
    let luma: Vec<f32> = (0..w * h)
        .map(|k| {
            let p = img.rgb255(k % w, k / w);
            0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]
        })
        .collect();
    let mut sorted = luma.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let median = sorted[sorted.len() / 2];
    Plane::from_vec(
        w,
        h,
        luma.iter()
            .map(|&l| if l > median { 1.0 } else { 0.0 })
            .collect(),
    )
    .expect("sizes match")
}

/// What `pertouch retouch IN -o OUT --say TEXT` makes of `photo`: the offline
/// agent reads the words, the built-in segmenter finds the regions they name at the
/// photo's size, the session sizes and checks the edits on a 1024-pixel preview,
/// and the parametric renderer draws the state at the photo's size. Returns the
/// result, the session's outcome and the masks.
pub fn retouch_say(
    photo: &Raster,
    text: &str,
) -> (
    Raster,
    pertouch_core::agent::Outcome,
    pertouch_core::mask::MaskSet,
) {
    use pertouch_core::agent::{interpret, preview, Session, PREVIEW_LONG_SIDE};
    use pertouch_core::measure::LevelTables;
    use pertouch_core::params::RegionState;
    use pertouch_core::render::{
        Control, ParametricRenderer, RenderJob, RenderOptions, RenderRequest, Renderer,
    };
    use pertouch_core::segment::{masks_for, BuiltinSegmenter};
    let tables = LevelTables::builtin().clone();
    let renderer = ParametricRenderer::new(RenderOptions {
        tables: tables.clone(),
        ..Default::default()
    });
    let interp = interpret(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    let regions = interp.regions();
    let names: Vec<&str> = regions.iter().map(String::as_str).collect();
    let masks = masks_for(&BuiltinSegmenter, photo, &names).unwrap();
    let small = preview(photo, PREVIEW_LONG_SIDE);
    let session = Session {
        renderer: &renderer,
        preview: &small,
        masks: &masks,
        tables: &tables,
    };
    let outcome = session
        .apply(&RegionState::new(), &interp, &Control::default())
        .unwrap();
    let job = RenderJob {
        source: photo,
        masks: &masks,
        state: &outcome.state,
    };
    let image = renderer
        .render(&job, &RenderRequest::default(), &Control::default())
        .unwrap()
        .image;
    (image, outcome, masks)
}

/// The refined mask of the state's only named region at full resolution, as the
/// renderer evaluates it.
pub fn refined_mask(
    photo: &Raster,
    masks: &pertouch_core::mask::MaskSet,
    state: &pertouch_core::params::RegionState,
) -> Plane {
    use pertouch_core::render::{Control, ParametricRenderer, RenderJob};
    let plan = ParametricRenderer::default()
        .plan(
            &RenderJob {
                source: photo,
                masks,
                state,
            },
            &Control::default(),
        )
        .unwrap();
    let (w, h) = (photo.width(), photo.height());
    let data = (0..w * h)
        .map(|k| {
            let (x, y) = (k % w, k / w);
            let p = photo.rgb255(x, y).map(|v| v / 255.0);
            let (u, v) = ((x as f32 + 0.5) / w as f32, (y as f32 + 0.5) / h as f32);
            plan.mask_value(0, u, v, p).unwrap()
        })
        .collect();
    Plane::from_vec(w, h, data).unwrap()
}

/// Our OpenFX test host (the host side of the C API, written in Rust).
/// What the core renders for `state` on the whole of `image` through
/// `host::Engine` (a frame planned with no host masks, rendered as one tile):
/// the reference the host tests compare a plug-in's output with.
pub fn engine_render(image: &Raster, state: &pertouch_core::params::RegionState) -> Raster {
    use pertouch_core::host::{Engine, EngineConfig, FrameInputs, FrameKey};
    use pertouch_core::mask::MaskSet;
    use pertouch_core::render::Control;
    let engine = Engine::open(&EngineConfig::default()).expect("default engine");
    let frame = engine
        .frame(
            FrameKey::for_raster(image, state),
            state,
            || {
                Ok(FrameInputs {
                    source: std::borrow::Cow::Borrowed(image),
                    masks: MaskSet::new(),
                })
            },
            &Control::default(),
        )
        .expect("plan the frame");
    frame
        .render_tile(
            image,
            (0, 0),
            (image.width(), image.height()),
            &Control::default(),
        )
        .expect("render the frame")
}

#[path = "ofx_host/mod.rs"]
pub mod ofx_host;
