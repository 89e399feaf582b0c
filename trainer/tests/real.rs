//! Real image sources as a user points at them: folders with PNG and JPEG
//! (colour and grey) and damaged files, IDX files, several mixed.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use trainer::real::{RealError, RealImages, idx};

const SIZE: usize = 8;

fn png(path: &Path, w: u32, h: u32, colour: [u8; 3]) {
    image::RgbImage::from_pixel(w, h, image::Rgb(colour))
        .save(path)
        .expect("png");
}

/// An IDX file of `count` 6×5 images, image `i` filled with value `i`.
fn idx_file(path: &Path, count: usize, gzip: bool) {
    let data: Vec<u8> = (0..count).flat_map(|i| vec![i as u8; 30]).collect();
    let bytes = idx::encode(&[count, 6, 5], &data);
    let f = std::fs::File::create(path).expect("create");
    if gzip {
        let mut enc = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        enc.write_all(&bytes).expect("gz");
        enc.finish().expect("gz");
    } else {
        let mut f = f;
        f.write_all(&bytes).expect("write");
    }
}

/// Every pixel value (0–255) of an image `[3, SIZE, SIZE]`, rounded.
fn levels(img: &[f32]) -> Vec<u8> {
    let mut v: Vec<u8> = img.iter().map(|x| (x * 255.0).round() as u8).collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn a_folder_of_png_and_jpeg_skips_damaged_files_and_counts_them() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("photos");
    std::fs::create_dir_all(dir.join("nested/deeper")).expect("mkdir");
    png(&dir.join("a.png"), 20, 10, [200, 10, 10]);
    png(&dir.join("nested/b.PNG"), 9, 30, [10, 200, 10]);
    image::GrayImage::from_pixel(16, 16, image::Luma([77]))
        .save(dir.join("nested/deeper/grey.png"))
        .expect("grey png");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    std::fs::copy(fixtures.join("tiny.jpg"), dir.join("c.jpg")).expect("jpg");
    std::fs::copy(fixtures.join("grey.jpg"), dir.join("nested/d.jpeg")).expect("grey jpg");
    std::fs::write(dir.join("broken.png"), b"\x89PNG\r\n\x1a\nnot really").expect("broken");
    std::fs::write(dir.join("notes.txt"), b"not an image").expect("txt");

    let images = Arc::new(RealImages::open(std::slice::from_ref(&dir), SIZE).expect("open"));
    assert_eq!(
        images.len(),
        6,
        "five images and the damaged PNG; the text file is ignored"
    );
    let stream = images.clone().stream(4, 1, 2);
    for _ in 0..10 {
        let batch = stream.next_batch().expect("batch");
        assert_eq!(batch.len(), 4);
        for img in &batch {
            assert_eq!(img.len(), 3 * SIZE * SIZE);
            assert!(img.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }
    assert_eq!(
        stream.skipped(),
        1,
        "the damaged PNG, skipped once and counted"
    );
}

#[test]
fn idx_sources_hold_out_every_twentieth_image_and_mix_with_folders() {
    let tmp = tempfile::tempdir().expect("tmp");
    let plain = tmp.path().join("set-idx3-ubyte");
    let gz = tmp.path().join("set-idx3-ubyte.gz");
    idx_file(&plain, 40, false);
    idx_file(&gz, 40, true);
    let folder = tmp.path().join("folder");
    std::fs::create_dir_all(&folder).expect("mkdir");
    png(&folder.join("red.png"), 12, 12, [255, 0, 0]);

    let both = RealImages::open(&[plain.clone(), gz], SIZE).expect("open idx");
    assert_eq!(both.len(), 80);
    let (held, skipped) = both.held_out(10);
    assert_eq!(skipped, 0);
    // Images 19 and 39 of each file, the files taken in turn; grey → three equal channels.
    let values: Vec<Vec<u8>> = held.iter().map(|h| levels(h)).collect();
    assert_eq!(values, vec![vec![19], vec![19], vec![39], vec![39]]);

    let mixed = Arc::new(RealImages::open(&[plain, folder], SIZE).expect("open mixed"));
    let stream = mixed.stream(8, 3, 2);
    let (mut red, mut grey) = (0, 0);
    for _ in 0..20 {
        for img in stream.next_batch().expect("batch") {
            let l = levels(&img);
            if l == vec![0, 255] {
                red += 1;
            } else {
                assert_eq!(l.len(), 1, "an IDX image is one grey level");
                assert!(
                    l[0] % 20 != 19,
                    "held-out image {} was drawn for training",
                    l[0]
                );
                grey += 1;
            }
        }
    }
    assert!(
        red > 40 && grey > 40,
        "both sources drawn about equally: {red} / {grey}"
    );
}

#[test]
fn empty_missing_and_unusable_sources_are_errors_naming_the_path() {
    let tmp = tempfile::tempdir().expect("tmp");
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(empty.join("sub")).expect("mkdir");
    let e = RealImages::open(std::slice::from_ref(&empty), SIZE)
        .err()
        .expect("empty");
    assert!(
        matches!(e, RealError::NoImages { .. }) && e.to_string().contains("empty"),
        "{e}"
    );
    let missing = tmp.path().join("nowhere");
    let e = RealImages::open(&[missing], SIZE).err().expect("missing");
    assert!(e.to_string().contains("nowhere: no such file"), "{e}");
    let labels = tmp.path().join("labels-idx1-ubyte");
    std::fs::write(&labels, idx::encode(&[3], &[1, 2, 3])).expect("write");
    let e = RealImages::open(&[labels], SIZE).err().expect("labels");
    assert!(
        e.to_string().contains("labels-idx1-ubyte") && e.to_string().contains("[3]"),
        "{e}"
    );
}

#[test]
fn a_source_of_only_damaged_files_ends_the_stream_with_an_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    for name in ["a.png", "b.jpg"] {
        std::fs::write(tmp.path().join(name), b"garbage").expect("write");
    }
    let images = Arc::new(RealImages::open(&[tmp.path().to_path_buf()], SIZE).expect("open"));
    let e = images.stream(2, 0, 1).next_batch().expect_err("exhausted");
    assert!(matches!(e, RealError::Exhausted { skipped: 2 }), "{e}");
}
