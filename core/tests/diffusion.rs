//! The diffusion pipeline against diffusers, on real ONNX Runtime, with the
//! committed fixtures (models/fixtures/make_diffusion_fixtures.py): the tiny
//! PerTouch package (the real architecture at toy widths, random weights) and what
//! the PyTorch modules with diffusers' schedulers computed from the same image,
//! parameter map and noise.

mod common;
use common::{fixture, runtime};
use pertouch_core::diffusion::{
    DiffusionModel, Prediction, SampleOptions, Scheduler, SchedulerConfig, SchedulerKind,
};
use pertouch_core::onnx::{self, Package, SessionOptions, TensorF32};
use pertouch_core::raster::RgbF32;
use pertouch_core::render::{CancelToken, Control};
use pertouch_core::Error;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

fn read_f32(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn tensor(name: &str, shape: &[usize]) -> TensorF32 {
    let data = read_f32(&fixture("diffusion").join(name));
    assert_eq!(data.len(), shape.iter().product::<usize>(), "{name}");
    TensorF32 {
        shape: shape.to_vec(),
        data,
    }
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("diffusion/expected.json")).unwrap())
        .unwrap()
}

fn input_image() -> RgbF32 {
    let img = image::open(fixture("diffusion/input.png"))
        .unwrap()
        .to_rgb8();
    RgbF32::from_rgb8(img.width() as usize, img.height() as usize, img.as_raw()).unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn sd21(prediction: Prediction) -> SchedulerConfig {
    SchedulerConfig::stable_diffusion_2_1(prediction)
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

#[test]
fn schedulers_match_diffusers() {
    let cases: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(fixture("diffusion/schedulers.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(cases.len(), 6);
    for case in &cases {
        let kind = SchedulerKind::parse(case["scheduler"].as_str().unwrap()).unwrap();
        let prediction = match case["prediction_type"].as_str().unwrap() {
            "epsilon" => Prediction::Epsilon,
            _ => Prediction::VPrediction,
        };
        let cfg = sd21(prediction);
        for steps in [10usize, 20, 50] {
            let s = Scheduler::new(kind, &cfg, steps).unwrap();
            let want: Vec<usize> = case["timesteps"][steps.to_string()]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(s.timesteps(), &want[..], "{kind:?} {prediction:?} {steps}");
        }
        let mut s = Scheduler::new(kind, &cfg, 10).unwrap();
        let mut x = floats(&case["start"]);
        let mut worst = 0.0f32;
        for k in 0..10 {
            let out = floats(&case["model_outputs"][k]);
            let noise = floats(&case["noises"][k]);
            s.step(&out, &mut x, Some(&noise)).unwrap();
            let want = floats(&case["trajectory"][k]);
            for (g, w) in x.iter().zip(&want) {
                // Relative where the trajectory grows (epsilon with random outputs).
                worst = worst.max((g - w).abs() / w.abs().max(1.0));
            }
        }
        eprintln!("{kind:?} {prediction:?}: worst relative difference {worst:.2e}");
        assert!(worst < 1e-4, "{kind:?} {prediction:?}: {worst}");
    }
}

/// Runs one of expected.json's runs on `model` from the fixture's image, map and
/// noise; returns the final latents' largest difference from diffusers' and the
/// decoded image's mean absolute difference in [0, 1] units (clamped, as saved).
fn against_reference(model: &DiffusionModel, run: &Value) -> (f32, f32) {
    let s = model.size();
    let latent_shape = model.latent_shape();
    let image = pertouch_core::diffusion::pipeline::rgb_to_tensor(&input_image());
    let source_latent = model.encode(&image).unwrap();
    let map = tensor("param_map.f32", &[1, 4, s, s]);
    let noise = tensor("noise.f32", &latent_shape);
    let name = run["name"].as_str().unwrap();
    let opts = SampleOptions {
        scheduler: SchedulerKind::parse(run["scheduler"].as_str().unwrap()).unwrap(),
        steps: run["steps"].as_u64().unwrap() as usize,
        seed: 0,
    };
    let (x, stats) = model
        .sample(&source_latent, &map, noise, &opts, &Control::default())
        .unwrap();
    assert_eq!(stats.steps, opts.steps);
    let want = tensor(&format!("{name}.latent.f32"), &latent_shape);
    let d = max_abs_diff(&x.data, &want.data);
    let decoded = model.decode(&x).unwrap();
    let want_img = tensor(&format!("{name}.image.f32"), &[1, 3, s, s]);
    let unit = |v: f32| ((v + 1.0) / 2.0).clamp(0.0, 1.0);
    let mae = decoded
        .data
        .iter()
        .zip(&want_img.data)
        .map(|(a, b)| (unit(*a) - unit(*b)).abs())
        .sum::<f32>()
        / decoded.data.len() as f32;
    (d, mae)
}

#[test]
fn the_pipeline_matches_diffusers() {
    let Some(rt) = runtime() else { return };
    let e = expected();
    let pkg = Package::open(&fixture("diffusion_tiny")).unwrap();
    let model = DiffusionModel::open(&pkg, rt, &SessionOptions::default()).unwrap();
    assert_eq!(model.size() as u64, e["size"].as_u64().unwrap());
    let image = pertouch_core::diffusion::pipeline::rgb_to_tensor(&input_image());
    let source_latent = model.encode(&image).unwrap();
    let want_latent = tensor("source_latent.f32", &model.latent_shape());
    let d = max_abs_diff(&source_latent.data, &want_latent.data);
    eprintln!("source latent: max |difference| {d:.2e}");
    assert!(d < 1e-4, "VAE encoder: {d}");
    for run in e["runs"].as_array().unwrap() {
        let name = run["name"].as_str().unwrap();
        let (d, mae) = against_reference(&model, run);
        eprintln!(
            "{name}: latents max |difference| {d:.2e}, image mean |difference| {:.5}/255",
            mae * 255.0
        );
        assert!(d < 1e-3, "{name}: latents differ by {d}");
        assert!(mae < 1.0 / 255.0, "{name}: image differs by {mae}");
    }
}

/// The half-precision export of the same networks runs through the same code
/// (f32 converted at the session boundary) and lands near the f32 reference.
#[test]
fn the_fp16_package_runs_and_stays_close() {
    let Some(rt) = runtime() else { return };
    let e = expected();
    let pkg = Package::open(&fixture("diffusion_tiny_fp16")).unwrap();
    let model = DiffusionModel::open(&pkg, rt, &SessionOptions::default()).unwrap();
    let run = &e["runs"][0];
    let (d, mae) = against_reference(&model, run);
    eprintln!(
        "fp16 {}: latents max |difference| {d:.2e} from the f32 reference, image mean |difference| {:.2}/255",
        run["name"].as_str().unwrap(),
        mae * 255.0
    );
    assert!(d < 1e-2, "fp16 latents differ by {d}");
    assert!(mae < 0.5 / 255.0, "fp16 image differs by {mae}");
}

#[test]
fn seeds_repeat_cancellation_stops_and_progress_is_per_step() {
    let Some(rt) = runtime() else { return };
    let pkg = Package::open(&fixture("diffusion_tiny")).unwrap();
    let model = DiffusionModel::open(&pkg, rt, &SessionOptions::default()).unwrap();
    let img = input_image();
    let s = model.size();
    let map = tensor("param_map.f32", &[1, 4, s, s]);
    for kind in SchedulerKind::ALL {
        let opts = SampleOptions {
            scheduler: kind,
            steps: 4,
            seed: 11,
        };
        let (a, _) = model
            .retouch(&img, &map, &opts, &Control::default())
            .unwrap();
        let (b, _) = model
            .retouch(&img, &map, &opts, &Control::default())
            .unwrap();
        assert_eq!(a, b, "{kind:?}: the same seed must give the same image");
        let (c, _) = model
            .retouch(
                &img,
                &map,
                &SampleOptions { seed: 12, ..opts },
                &Control::default(),
            )
            .unwrap();
        assert_ne!(a, c, "{kind:?}: another seed, another image");
    }
    // Cancel from the progress callback after the second step.
    let token = CancelToken::new();
    let steps_seen = AtomicUsize::new(0);
    let progress = |stage: &str, f: f32| {
        if stage == "diffusion" {
            let n = steps_seen.fetch_add(1, Ordering::SeqCst) + 1;
            assert!((f - n as f32 / 10.0).abs() < 1e-6, "step {n}: {f}");
            if n == 2 {
                token.cancel();
            }
        }
    };
    let ctl = Control {
        cancel: Some(&token),
        progress: Some(&progress),
    };
    let opts = SampleOptions {
        scheduler: SchedulerKind::Ddim,
        steps: 10,
        seed: 1,
    };
    let r = model.retouch(&img, &map, &opts, &ctl);
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    assert_eq!(steps_seen.load(Ordering::SeqCst), 2);
}

#[test]
fn broken_packages_and_requests_are_clear_errors() {
    let Some(rt) = runtime() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let copy = |name: &str| {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for f in std::fs::read_dir(fixture("diffusion_tiny")).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), dir.join(f.file_name())).unwrap();
        }
        dir
    };
    let open = |dir: &Path| {
        Package::open(dir)
            .map_err(|e| e.to_string())
            .and_then(|p| {
                DiffusionModel::open(&p, rt, &SessionOptions::default()).map_err(|e| e.to_string())
            })
            .unwrap_err()
    };
    // A changed UNet file.
    let dir = copy("tampered");
    let mut bytes = std::fs::read(dir.join("unet.onnx")).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(dir.join("unet.onnx"), bytes).unwrap();
    let msg = open(&dir);
    assert!(
        msg.contains("unet.onnx") && msg.contains("reinstall"),
        "{msg}"
    );
    // A missing graph file.
    let dir = copy("missing");
    std::fs::remove_file(dir.join("controlnet.onnx")).unwrap();
    let msg = open(&dir);
    assert!(
        msg.contains("controlnet.onnx") && msg.contains("missing"),
        "{msg}"
    );
    // A manifest whose UNet inputs do not match the graph.
    let dir = copy("wrong-shape");
    let path = dir.join("manifest.json");
    let mut m: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let graphs = m["graphs"].as_array_mut().unwrap();
    let unet = graphs.iter_mut().find(|g| g["role"] == "unet").unwrap();
    unet["inputs"][0]["shape"] = serde_json::json!([1, 4, 16, 16]);
    std::fs::write(&path, serde_json::to_string(&m).unwrap()).unwrap();
    let msg = open(&dir);
    assert!(msg.contains("unet") && msg.contains("sample"), "{msg}");
    // Not a diffusion package.
    let msg = open(&fixture("segformer_fixture"));
    assert!(msg.contains("not \"diffusion\""), "{msg}");
    // A parameter map of the wrong size.
    let pkg = Package::open(&fixture("diffusion_tiny")).unwrap();
    let model = DiffusionModel::open(&pkg, rt, &SessionOptions::default()).unwrap();
    let latent = model.noise(0);
    let small = TensorF32 {
        shape: vec![1, 4, 8, 8],
        data: vec![0.0; 256],
    };
    let r = model.sample(
        &latent,
        &small,
        model.noise(1),
        &SampleOptions::default(),
        &Control::default(),
    );
    assert!(
        matches!(&r, Err(Error::InvalidRequest(m)) if m.contains("parameter map")),
        "{r:?}"
    );
}

mod renderer {
    use super::*;
    use pertouch_core::agent::instruction::interpret;
    use pertouch_core::agent::rethink::Session;
    use pertouch_core::diffusion::DiffusionRenderer;
    use pertouch_core::image_io::{load, LoadOptions};
    use pertouch_core::mask::MaskSet;
    use pertouch_core::params::{Attribute, RegionState};
    use pertouch_core::plane::Plane;
    use pertouch_core::raster::Raster;
    use pertouch_core::render::{Rect, RenderJob, RenderRequest, Renderer};
    use std::sync::Arc;

    fn photo() -> Raster {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples/dune.jpg");
        load(&path, &LoadOptions::default()).unwrap().raster
    }

    /// dune.jpg's sky: the top 40% of the frame, as a rough band.
    fn sky_mask(r: &Raster) -> MaskSet {
        let (w, h) = (r.width() / 4, r.height() / 4);
        let band = (0..w * h)
            .map(|i| if (i / w) < h * 2 / 5 { 1.0 } else { 0.0 })
            .collect();
        let mut masks = MaskSet::new();
        masks.insert("sky", Plane::from_vec(w, h, band).unwrap());
        masks
    }

    fn open(rt: &'static onnx::Runtime) -> DiffusionRenderer {
        let pkg = Package::open(&fixture("diffusion_tiny")).unwrap();
        let model = DiffusionModel::open(&pkg, rt, &SessionOptions::default()).unwrap();
        let mut r = DiffusionRenderer::new(Arc::new(model));
        r.sample = SampleOptions {
            scheduler: SchedulerKind::DpmSolverPP,
            steps: 4,
            seed: 5,
        };
        r
    }

    #[test]
    fn the_level_map_holds_measured_levels_plus_changes() {
        let Some(rt) = runtime() else { return };
        let r = open(rt);
        let src = photo();
        let masks = sky_mask(&src);
        let state = RegionState::from_json(
            r#"{"global": {"brightness": 0.1}, "sky": {"temperature": -0.3}}"#,
        )
        .unwrap();
        let job = RenderJob {
            source: &src,
            masks: &masks,
            state: &state,
        };
        let map = r.level_map(&job, &Control::default()).unwrap();
        let s = r.model().size();
        assert_eq!(map.tensor.shape, vec![1, 4, s, s]);
        let at = |attr: Attribute, x: usize, y: usize| {
            map.tensor.data[attr.channel() * s * s + y * s + x]
        };
        let edit = |region: &str, attr: Attribute| {
            map.report
                .edits
                .iter()
                .find(|e| e.region == region && e.attribute == attr)
                .unwrap()
                .clone()
        };
        let sky_t = edit("sky", Attribute::Temperature);
        assert!((sky_t.target - (sky_t.before - 0.3)).abs() < 1e-6);
        // Deep inside the sky band: the sky's own temperature level minus 0.3.
        let v = at(Attribute::Temperature, s / 2, s / 10) as f64;
        assert!((v - sky_t.target).abs() < 0.02, "{v} vs {}", sky_t.target);
        // Far below it: the whole photo's brightness plus 0.1 (no region covers it).
        let g_b = edit("global", Attribute::Brightness);
        let v = at(Attribute::Brightness, s / 2, s - 2) as f64;
        assert!((v - g_b.target).abs() < 0.02, "{v} vs {}", g_b.target);
        assert!((g_b.target - (g_b.before + 0.1)).abs() < 1e-6);
        // Values are levels: all inside [-1, 1].
        assert!(map.tensor.data.iter().all(|v| (-1.0..=1.0).contains(v)));
    }

    #[test]
    fn renders_tiles_proxies_and_the_rethink_loop_on_the_diffusion_renderer() {
        let Some(rt) = runtime() else { return };
        let r = open(rt);
        let src = photo();
        let masks = sky_mask(&src);
        let state = RegionState::from_json(
            r#"{"sky": {"temperature": -0.3}, "global": {"contrast": 0.1}}"#,
        )
        .unwrap();
        let job = RenderJob {
            source: &src,
            masks: &masks,
            state: &state,
        };
        let full = r
            .render(&job, &RenderRequest::default(), &Control::default())
            .unwrap();
        assert_eq!(
            (full.image.width(), full.image.height(), full.image.depth()),
            (src.width(), src.height(), src.depth())
        );
        assert_eq!(full.report.renderer, "diffusion");
        assert_eq!(full.report.edits.len(), 2);
        assert!(full.report.edits.iter().all(|e| e.achieved.is_some()));
        // A region of interest renders as the same part of the full frame.
        let roi = Rect {
            x: 100,
            y: 50,
            width: 300,
            height: 200,
        };
        let tile = r
            .render(
                &job,
                &RenderRequest {
                    scale: 1.0,
                    roi: Some(roi),
                },
                &Control::default(),
            )
            .unwrap();
        let crop = pertouch_core::render::crop(&full.image, roi).unwrap();
        assert_eq!(tile.image, crop);
        let half = r
            .render(
                &job,
                &RenderRequest {
                    scale: 0.5,
                    roi: None,
                },
                &Control::default(),
            )
            .unwrap();
        assert_eq!(
            (half.image.width(), half.image.height()),
            (src.width() / 2, src.height() / 2)
        );
        // The agent's rethink loop drives it unchanged: it renders, measures the
        // result, and adjusts. (Random weights cannot converge; the loop must still
        // measure every round and end cleanly.)
        let preview = pertouch_core::render::resample(&src, 400, 250);
        let preview_masks = sky_mask(&src);
        let session = Session {
            renderer: &r,
            preview: &preview,
            masks: &preview_masks,
            tables: r.model().tables(),
        };
        let interp = interpret("make the sky a little cooler").unwrap();
        let out = session
            .apply(&RegionState::default(), &interp, &Control::default())
            .unwrap();
        assert!(!out.trace.is_empty());
        for round in &out.trace {
            assert!(
                round.checks.iter().all(|c| c.measured.is_some()),
                "{round:?}"
            );
        }
    }
}
