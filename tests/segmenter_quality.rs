//! The built-in segmenter against labels derived by hand for the sample photos
//! (tests/data/labels, made by make_labels.py there). Prints the table that
//! docs/SEGMENTATION.md reports and asserts the floors the segmenter reaches.

use pertouch_core::mask::MaskSet;
use pertouch_core::plane::Plane;
use pertouch_core::segment::{masks_for, BuiltinSegmenter};
use pertouch_e2e::sample_photos;
use std::path::PathBuf;

const CLASSES: [&str; 4] = ["sky", "vegetation", "water", "skin"];

/// Pooled IoU floor per class over the photos that contain it, and the largest
/// share of a photo the class may wrongly cover where it is absent (mean over those
/// photos).
const FLOORS: [(&str, f64, f64); 4] = [
    ("sky", 0.80, 0.06),
    ("vegetation", 0.78, 0.02),
    ("water", 0.50, 0.08),
    ("skin", 0.45, 0.10),
];

fn label(photo: &str, class: &str, like: &Plane) -> Option<Plane> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data/labels")
        .join(format!("{photo}.{class}.png"));
    let mut set = MaskSet::new();
    set.insert_file(class, &p).ok()?;
    let m = set.get(class)?;
    Some(m.resized(like.width(), like.height()))
}

#[test]
fn builtin_segmenter_reaches_its_floors() {
    let mut inter = [0f64; 4];
    let mut union = [0f64; 4];
    let mut false_cover = [0f64; 4];
    let mut absent = [0usize; 4];
    let mut labelled_photos = std::collections::BTreeSet::new();
    println!("| photo | class | label % | predicted % | IoU |");
    println!("|---|---|---|---|---|");
    for (name, photo) in sample_photos() {
        let masks = masks_for(&BuiltinSegmenter, &photo, &CLASSES).unwrap();
        for (c, class) in CLASSES.iter().enumerate() {
            let pred = masks.get(class).unwrap();
            let inside = |v: f32| v >= 0.5;
            let p_share = pred.data().iter().filter(|&&v| inside(v)).count() as f64
                / pred.data().len() as f64;
            match label(&name, class, pred) {
                Some(l) => {
                    labelled_photos.insert(name.clone());
                    let (mut i, mut u, mut l_count) = (0f64, 0f64, 0f64);
                    for (&a, &b) in pred.data().iter().zip(l.data()) {
                        let (a, b) = (inside(a), inside(b));
                        i += (a && b) as u8 as f64;
                        u += (a || b) as u8 as f64;
                        l_count += b as u8 as f64;
                    }
                    inter[c] += i;
                    union[c] += u;
                    println!(
                        "| {name} | {class} | {:.1} | {:.1} | {:.3} |",
                        100.0 * l_count / l.data().len() as f64,
                        100.0 * p_share,
                        i / u.max(1.0)
                    );
                }
                None => {
                    false_cover[c] += p_share;
                    absent[c] += 1;
                    if p_share > 0.01 {
                        println!(
                            "| {name} | {class} (absent) | 0 | {:.1} | - |",
                            100.0 * p_share
                        );
                    }
                }
            }
        }
    }
    println!();
    println!("| class | pooled IoU | floor | mean wrong cover where absent | limit |");
    println!("|---|---|---|---|---|");
    let mut failures = Vec::new();
    for (c, (class, floor, limit)) in FLOORS.iter().enumerate() {
        let iou = inter[c] / union[c].max(1.0);
        let cover = false_cover[c] / absent[c].max(1) as f64;
        println!(
            "| {class} | {iou:.3} | {floor} | {:.1}% | {:.0}% |",
            cover * 100.0,
            limit * 100.0
        );
        if iou < *floor || cover > *limit {
            failures.push(format!(
                "{class}: IoU {iou:.3} (floor {floor}), wrong cover {cover:.3} (limit {limit})"
            ));
        }
    }
    assert!(
        labelled_photos.len() >= 6,
        "labels for {} photos",
        labelled_photos.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
