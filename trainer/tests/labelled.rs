//! Labelled evaluation sets in each format, built by hand: IDX (gzip and
//! plain), CIFAR-10 binary, ImageFolder with damaged and foreign files; the
//! split, the per-class limit and the errors.

use std::io::Write;
use std::path::Path;
use trainer::eval::labelled::{Format, LabelledError, LoadOptions, open, stratified_split};
use trainer::real::idx;

fn write(path: &Path, bytes: &[u8], gzip: bool) {
    let f = std::fs::File::create(path).expect("create");
    if gzip {
        let mut enc = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        enc.write_all(bytes).expect("gz");
        enc.finish().expect("gz");
    } else {
        let mut f = f;
        f.write_all(bytes).expect("write");
    }
}

fn png(path: &Path, colour: [u8; 3]) {
    image::RgbImage::from_pixel(10, 10, image::Rgb(colour))
        .save(path)
        .expect("png");
}

#[test]
fn idx_sets_keep_their_own_split_gzip_or_not() {
    let tmp = tempfile::tempdir().expect("tmp");
    // 6 training images (labels 0,1,2,0,1,2) of 4×3, 3 test images; pixel value = index.
    let train: Vec<u8> = (0..6u8).flat_map(|i| vec![i; 12]).collect();
    let test: Vec<u8> = (0..3u8).flat_map(|i| vec![100 + i; 12]).collect();
    write(
        &tmp.path().join("train-images-idx3-ubyte.gz"),
        &idx::encode(&[6, 4, 3], &train),
        true,
    );
    write(
        &tmp.path().join("train-labels-idx1-ubyte"),
        &idx::encode(&[6], &[0, 1, 2, 0, 1, 2]),
        false,
    );
    write(
        &tmp.path().join("t10k-images-idx3-ubyte"),
        &idx::encode(&[3, 4, 3], &test),
        false,
    );
    write(
        &tmp.path().join("t10k-labels-idx1-ubyte.gz"),
        &idx::encode(&[3], &[2, 1, 0]),
        true,
    );
    let set = open(tmp.path(), &LoadOptions::default()).expect("open");
    assert_eq!(set.format, Format::Idx);
    assert!(set.own_split);
    assert_eq!(set.classes.len(), 3);
    assert_eq!(set.train.len(), 6);
    assert_eq!(
        set.test.iter().map(|(_, l)| *l).collect::<Vec<_>>(),
        vec![2, 1, 0]
    );
    let img = set.image(set.test[1].0).expect("image");
    assert_eq!((img.width(), img.height()), (3, 4));
    assert_eq!(
        img.get_pixel(1, 1).0,
        [101, 101, 101],
        "grey replicated to RGB"
    );
    let limited = open(
        tmp.path(),
        &LoadOptions {
            limit_per_class: Some(1),
            ..Default::default()
        },
    )
    .expect("open");
    assert_eq!(limited.train.len(), 3, "one per class");
    let none = LoadOptions {
        limit_per_class: Some(0),
        ..Default::default()
    };
    let e = open(tmp.path(), &none)
        .err()
        .expect("nothing left")
        .to_string();
    assert!(e.contains("no training image left"), "{e}");
    // Labels that do not match the images are an error naming the file.
    write(
        &tmp.path().join("train-labels-idx1-ubyte"),
        &idx::encode(&[5], &[0, 1, 2, 0, 1]),
        false,
    );
    let e = open(tmp.path(), &LoadOptions::default())
        .err()
        .expect("mismatch")
        .to_string();
    assert!(
        e.contains("train-labels-idx1-ubyte") && e.contains("6 images"),
        "{e}"
    );
}

#[test]
fn cifar_records_decode_planar_rgb() {
    let tmp = tempfile::tempdir().expect("tmp");
    let record = |label: u8, rgb: [u8; 3]| {
        let mut r = vec![label];
        for c in rgb {
            r.extend(std::iter::repeat_n(c, 1024));
        }
        r
    };
    let batch: Vec<u8> = [record(0, [255, 0, 0]), record(1, [0, 0, 255])].concat();
    std::fs::write(tmp.path().join("data_batch_1.bin"), &batch).expect("write");
    std::fs::write(tmp.path().join("test_batch.bin"), record(1, [10, 20, 30])).expect("write");
    std::fs::write(
        tmp.path().join("batches.meta.txt"),
        "airplane\nautomobile\n",
    )
    .expect("write");
    let set = open(tmp.path(), &LoadOptions::default()).expect("open");
    assert_eq!(set.format, Format::Cifar);
    assert_eq!(set.classes, vec!["airplane", "automobile"]);
    assert_eq!((set.train.len(), set.test.len()), (2, 1));
    let img = set.image(set.test[0].0).expect("image");
    assert_eq!((img.width(), img.get_pixel(31, 31).0), (32, [10, 20, 30]));
    // A truncated file names itself.
    std::fs::write(tmp.path().join("test_batch.bin"), &batch[..100]).expect("write");
    let e = open(tmp.path(), &LoadOptions::default())
        .err()
        .expect("truncated")
        .to_string();
    assert!(e.contains("test_batch.bin") && e.contains("records"), "{e}");
}

#[test]
fn image_folders_split_by_seed_and_keep_class_proportions() {
    let tmp = tempfile::tempdir().expect("tmp");
    for (class, n, colour) in [("cat", 20, [200, 0, 0]), ("dog", 10, [0, 0, 200])] {
        let dir = tmp.path().join(class);
        std::fs::create_dir_all(&dir).expect("mkdir");
        for i in 0..n {
            png(&dir.join(format!("{i}.png")), colour);
        }
    }
    std::fs::write(tmp.path().join("cat/broken.png"), b"\x89PNG\r\n\x1a\nno").expect("write");
    std::fs::write(tmp.path().join("dog/readme.txt"), b"not an image").expect("write");
    let options = LoadOptions {
        seed: 5,
        ..Default::default()
    };
    let a = open(tmp.path(), &options).expect("open");
    assert_eq!(a.format, Format::ImageFolder);
    assert!(!a.own_split);
    assert_eq!(a.classes, vec!["cat", "dog"]);
    // 21 cat files (one damaged), 10 dog images; the text file is not an image.
    assert_eq!(a.train.len() + a.test.len(), 31);
    let test_per_class = |s: &[(usize, u32)], c| s.iter().filter(|(_, l)| *l == c).count();
    assert_eq!(
        (test_per_class(&a.test, 0), test_per_class(&a.test, 1)),
        (4, 2),
        "20 % of each class"
    );
    let b = open(tmp.path(), &options).expect("open again");
    assert_eq!(a.test, b.test, "same seed, same split");
    let damaged = a
        .train
        .iter()
        .chain(&a.test)
        .filter(|(i, _)| a.image(*i).is_err())
        .count();
    assert_eq!(
        damaged, 1,
        "the damaged PNG fails to decode (and is skipped by the probe)"
    );
}

#[test]
fn stratified_split_is_deterministic_and_proportional() {
    let items: Vec<(usize, u32)> = (0..1000).map(|i| (i, (i % 4) as u32 / 3)).collect();
    let (train, test) = stratified_split(&items, 2, 0.1, 9);
    assert_eq!(stratified_split(&items, 2, 0.1, 9).1, test);
    assert_ne!(stratified_split(&items, 2, 0.1, 10).1, test);
    assert_eq!(train.len() + test.len(), 1000);
    let ones =
        |s: &[(usize, u32)]| s.iter().filter(|(_, l)| *l == 1).count() as f64 / s.len() as f64;
    assert!((ones(&test) - 0.25).abs() < 0.01 && (ones(&train) - 0.25).abs() < 0.01);
}

#[test]
fn empty_single_class_and_mismatched_sets_are_errors() {
    let tmp = tempfile::tempdir().expect("tmp");
    let e = open(&tmp.path().join("absent"), &LoadOptions::default())
        .err()
        .expect("missing");
    assert!(matches!(e, LabelledError::Missing(_)));
    std::fs::create_dir_all(tmp.path().join("only")).expect("mkdir");
    png(&tmp.path().join("only/a.png"), [1, 2, 3]);
    png(&tmp.path().join("only/b.png"), [1, 2, 3]);
    let e = open(tmp.path(), &LoadOptions::default())
        .err()
        .expect("one class")
        .to_string();
    assert!(e.contains("at least two"), "{e}");
    std::fs::create_dir_all(tmp.path().join("empty")).expect("mkdir");
    let e = open(tmp.path(), &LoadOptions::default())
        .err()
        .expect("empty class")
        .to_string();
    assert!(
        e.contains("empty") && e.contains("without a PNG or JPEG"),
        "{e}"
    );
    let as_idx = LoadOptions {
        format: Some(Format::Idx),
        ..Default::default()
    };
    let e = open(tmp.path(), &as_idx)
        .err()
        .expect("not idx")
        .to_string();
    assert!(e.contains("not a data set in the idx format"), "{e}");
}
