//! The ONNX segmenters on real ONNX Runtime, with the committed fixtures
//! (models/fixtures/make_segmentation_fixtures.py): the Rust pipeline (tokenizer,
//! resize, normalise, run, softmax or sigmoid, resize back) against the same
//! pipeline in Python, to 1e-4.

mod common;
use common::{fixture, runtime};
use pertouch_core::onnx::{self, Package, RuntimeConfig, SessionOptions};
use pertouch_core::plane::Plane;
use pertouch_core::raster::RgbF32;
use pertouch_core::segment::clip_tokenizer::ClipTokenizer;
use pertouch_core::segment::{
    masks_for, prompt_for, LabelSegmenter, Layered, Segmenter, SegmenterConfig, TextSegmenter,
};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("expected.json")).unwrap()).unwrap()
}

fn input_image() -> RgbF32 {
    let img = image::open(fixture("input.png")).unwrap().to_rgb8();
    RgbF32::from_rgb8(img.width() as usize, img.height() as usize, img.as_raw()).unwrap()
}

/// Python's masks, `[count, height, width]`.
fn expected_masks(e: &Value) -> Vec<Vec<f32>> {
    let bytes = std::fs::read(fixture(e["masks"]["file"].as_str().unwrap())).unwrap();
    let shape: Vec<usize> = e["masks"]["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let floats: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(floats.len(), shape.iter().product::<usize>());
    floats
        .chunks_exact(shape[1] * shape[2])
        .map(<[f32]>::to_vec)
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn max_diff(ours: &Plane, theirs: &[f32]) -> f32 {
    assert_eq!(ours.data().len(), theirs.len());
    ours.data()
        .iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

fn open_labels(rt: &onnx::Runtime) -> LabelSegmenter {
    let pkg = Package::open(&fixture("segformer_fixture")).unwrap();
    LabelSegmenter::open(&pkg, rt, &SessionOptions::default()).unwrap()
}

fn open_text(rt: &onnx::Runtime) -> TextSegmenter {
    let pkg = Package::open(&fixture("clipseg_fixture")).unwrap();
    TextSegmenter::open(&pkg, rt, &SessionOptions::default()).unwrap()
}

#[test]
fn the_tokenizer_matches_hugging_face_clip() {
    // Pure Rust: no runtime needed.
    let tok = ClipTokenizer::open(
        &fixture("clipseg_fixture/vocab.json"),
        &fixture("clipseg_fixture/merges.txt"),
    )
    .unwrap();
    let e = expected();
    for case in e["tokens"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let want: Vec<i64> = case["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let got = tok.encode_batch(&[text]);
        assert_eq!(got.ids, want, "{text:?}");
        assert!(got.attention.iter().all(|&a| a == 1));
    }
    // A batch pads with the end marker and masks the padding, as Python did.
    let prompts = strings(&e["prompts"]);
    let refs: Vec<&str> = prompts.iter().map(String::as_str).collect();
    let batch = tok.encode_batch(&refs);
    let flat = |k: &str| -> Vec<i64> {
        e[k].as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()))
            .collect()
    };
    assert_eq!(batch.ids, flat("prompt_ids"));
    assert_eq!(batch.attention, flat("prompt_attention"));
}

#[test]
fn the_label_model_matches_python() {
    let Some(rt) = runtime() else { return };
    let e = expected();
    let seg = open_labels(rt);
    let names = strings(&e["label_regions"]);
    // The names map to the class sets Python used.
    for (n, classes) in names.iter().zip(e["label_classes"].as_array().unwrap()) {
        let want: Vec<usize> = classes
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(seg.classes_for(n), Some(want), "{n}");
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let masks = seg.segment(&input_image(), &refs).unwrap();
    let want = expected_masks(&e);
    for (i, m) in masks.iter().enumerate() {
        let d = max_diff(m, &want[i]);
        eprintln!("{}: max difference from Python {d:.2e}", names[i]);
        assert!(d < 1e-4, "{}: max difference {d}", names[i]);
    }
}

#[test]
fn the_text_model_matches_python() {
    let Some(rt) = runtime() else { return };
    let e = expected();
    let seg = open_text(rt);
    let names = strings(&e["text_regions"]);
    let prompts = strings(&e["prompts"]);
    for (n, p) in names.iter().zip(&prompts) {
        assert_eq!(&prompt_for(n), p);
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let masks = seg.segment(&input_image(), &refs).unwrap();
    let want = expected_masks(&e);
    let offset = e["label_regions"].as_array().unwrap().len();
    for (i, m) in masks.iter().enumerate() {
        let d = max_diff(m, &want[offset + i]);
        eprintln!("{}: max difference from Python {d:.2e}", names[i]);
        assert!(d < 1e-4, "{}: max difference {d}", names[i]);
    }
    // One prompt alone gives the same mask as inside the batch (padding is masked).
    let alone = seg.segment(&input_image(), &refs[..1]).unwrap();
    assert!(max_diff(&alone[0], &want[offset]) < 1e-4);
}

#[test]
fn models_in_front_of_the_builtin_segmenter_give_full_resolution_masks() {
    let Some(rt) = runtime() else { return };
    let layered = Layered::new(vec![
        Arc::new(open_labels(rt)) as Arc<dyn Segmenter>,
        Arc::new(open_text(rt)),
    ]);
    assert_eq!(layered.route("trees").unwrap().name(), "segformer-fixture");
    assert_eq!(
        layered.route("mountains").unwrap().name(),
        "segformer-fixture"
    );
    assert_eq!(
        layered.route("the red car").unwrap().name(),
        "clipseg-fixture"
    );
    assert_eq!(layered.route("shadows").unwrap().name(), "builtin");
    assert!(layered.open_vocabulary());
    // A real photo through the whole path: analysis-size masks the renderer refines.
    let photo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples");
    let Some(path) = std::fs::read_dir(&photo).ok().and_then(|d| {
        d.flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "jpg"))
    }) else {
        eprintln!("note: no sample photos at {}", photo.display());
        return;
    };
    let loaded = pertouch_core::image_io::load(&path, &Default::default()).unwrap();
    let masks = masks_for(&layered, &loaded.raster, &["sky", "red car", "shadows"]).unwrap();
    let (w, h) =
        pertouch_core::plane::fit_long_side(loaded.raster.width(), loaded.raster.height(), 512);
    for name in ["sky", "red car", "shadows"] {
        let m = masks.get(name).unwrap();
        assert_eq!((m.width(), m.height()), (w, h), "{name}");
        assert!(m.data().iter().all(|v| (0.0..=1.0).contains(v)), "{name}");
    }
}

#[test]
fn broken_packages_and_inputs_are_clear_errors() {
    let Some(rt) = runtime() else { return };
    // A package of the wrong task.
    let pkg = Package::open(&fixture("clipseg_fixture")).unwrap();
    let e = LabelSegmenter::open(&pkg, rt, &SessionOptions::default()).unwrap_err();
    assert!(e.to_string().contains("not \"segmentation-labels\""), "{e}");
    // A tampered vocabulary: hashes are checked before anything runs.
    let dir = tempfile::tempdir().unwrap();
    for f in ["manifest.json", "model.onnx", "vocab.json", "merges.txt"] {
        std::fs::copy(fixture("clipseg_fixture").join(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(dir.path().join("vocab.json"), "{}").unwrap();
    let pkg = Package::open(dir.path()).unwrap();
    let e = TextSegmenter::open(&pkg, rt, &SessionOptions::default()).unwrap_err();
    assert!(e.to_string().contains("vocab.json does not match"), "{e}");
    // A manifest that lies about the image size: the graph check refuses it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("segformer_fixture/model.onnx"),
        dir.path().join("model.onnx"),
    )
    .unwrap();
    let mut manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("segformer_fixture/manifest.json")).unwrap(),
    )
    .unwrap();
    manifest["inputs"][0]["shape"] = serde_json::json!([1, 3, 384, 384]);
    std::fs::write(dir.path().join("manifest.json"), manifest.to_string()).unwrap();
    let pkg = Package::open(dir.path()).unwrap();
    let e = LabelSegmenter::open(&pkg, rt, &SessionOptions::default()).unwrap_err();
    assert!(e.to_string().contains("384"), "{e}");
    // Unknown names and empty images.
    let seg = open_labels(rt);
    let e = seg.segment(&input_image(), &["unicorn"]).unwrap_err();
    assert!(e.to_string().contains("unicorn"), "{e}");
    let empty = RgbF32 {
        width: 0,
        height: 0,
        data: vec![],
    };
    assert!(seg.segment(&empty, &["sky"]).is_err());
    assert!(open_text(rt).segment(&empty, &["sky"]).is_err());
}

#[test]
fn installed_packages_are_found_automatically() {
    let Some(_) = runtime() else { return };
    let root = tempfile::tempdir().unwrap();
    for p in ["segformer_fixture", "clipseg_fixture", "scale_shift"] {
        onnx::package::import(&fixture(p), root.path()).unwrap();
    }
    let l = Layered::open(
        &SegmenterConfig::default(),
        Some(root.path()),
        &RuntimeConfig::default(),
        &SessionOptions {
            intra_threads: 1,
            ..Default::default()
        },
    );
    assert!(l.notes.is_empty(), "{:?}", l.notes);
    // Label-set models first; the test package is not a segmenter.
    assert_eq!(
        l.model_names(),
        vec!["segformer-fixture", "clipseg-fixture"]
    );
    // Naming one that is not installed is a note, and the rest still load.
    let l = Layered::open(
        &SegmenterConfig {
            models: Some(vec!["clipseg-fixture".into(), "segformer-ade20k".into()]),
        },
        Some(root.path()),
        &RuntimeConfig::default(),
        &SessionOptions::default(),
    );
    assert_eq!(l.model_names(), vec!["clipseg-fixture"]);
    assert!(l.notes[0].contains("segformer-ade20k"), "{:?}", l.notes);
}
