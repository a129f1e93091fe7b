//! Distribution checks over 100k generated images.

use shapeset::{batch, scene, CLASSES, CLASS_NAMES, IMAGE_DIM};

const N: usize = 100_000;
const SEED: u64 = 424_242;

/// Class priors without dropped shapes: one shape (1/2) of 3 kinds, or an unordered pair
/// of 2 kinds from 3 (mixed pairs come in two orders).
const PRIORS: [f64; CLASSES] = [
    1.0 / 6.0,
    1.0 / 6.0,
    1.0 / 6.0,
    1.0 / 9.0,
    1.0 / 9.0,
    1.0 / 9.0,
    1.0 / 18.0,
    1.0 / 18.0,
    1.0 / 18.0,
];

#[test]
fn class_frequencies_match_the_priors() {
    let (_, labels) = batch(SEED, 0, N);
    let mut counts = [0usize; CLASSES];
    for &label in &labels {
        counts[usize::from(label)] += 1;
    }
    let dropped = (0..N as u64)
        .filter(|&i| {
            let s = scene(SEED, i);
            s.shapes().len() < s.requested
        })
        .count();
    println!("class  measured%  prior%   ({N} images, {dropped} with a dropped shape)");
    for (class, &count) in counts.iter().enumerate() {
        let measured = count as f64 / N as f64;
        println!(
            "{:5}  {:8.3}  {:7.3}",
            CLASS_NAMES[class],
            100.0 * measured,
            100.0 * PRIORS[class]
        );
        // One standard error is at most sqrt(1/6 * 5/6 / 1e5) = 0.12 pp, so 1 pp is over 8
        // of them, while a wrong label mapping or shape-count draw moves a class by 5 pp or
        // more. Dropped shapes (the original dropped none in 100k) shift mass by less still.
        assert!(
            (measured - PRIORS[class]).abs() < 0.01,
            "class {} at {:.3}% vs prior {:.3}%",
            CLASS_NAMES[class],
            100.0 * measured,
            100.0 * PRIORS[class]
        );
    }
    assert!(dropped < N / 1000, "{dropped} images lost a shape");
}

#[test]
fn about_half_the_images_are_inverted() {
    let inverted = (0..N as u64).filter(|&i| scene(SEED, i).inverted).count();
    let fraction = inverted as f64 / N as f64;
    println!("inverted fraction {fraction:.4}");
    // One standard error is 0.0016: +-0.01 is over 6 of them.
    assert!((fraction - 0.5).abs() < 0.01, "{fraction}");
}

#[test]
fn every_image_is_one_background_grey_and_up_to_two_shape_greys_from_the_other_range() {
    let (pixels, _) = batch(SEED, 0, N);
    let mut inverted = 0;
    for (i, image) in pixels.chunks(IMAGE_DIM).enumerate() {
        let mut histogram = [0usize; 256];
        for &p in image {
            histogram[usize::from(p)] += 1;
        }
        // The 1-pixel margin keeps the corner background.
        let background = image[0];
        let (background_range, shape_range) = if background >= 140 {
            inverted += 1;
            (140..=255, 0..=114)
        } else {
            (0..=114, 140..=255)
        };
        assert!(
            background_range.contains(&background),
            "image {i}: background {background}"
        );
        let others: Vec<u8> = (0..=255u8)
            .filter(|&g| g != background && histogram[usize::from(g)] > 0)
            .collect();
        assert!(
            (1..=2).contains(&others.len()) && others.iter().all(|g| shape_range.contains(g)),
            "image {i}: background {background}, shape greys {others:?}"
        );
        // A shape of scale >= 0.2 x 32 covers a dozen pixels at least.
        assert!(
            IMAGE_DIM - histogram[usize::from(background)] >= 12,
            "image {i}"
        );
    }
    // Same split as the inversion flag: every light background is an inverted image.
    let flagged = (0..N as u64).filter(|&i| scene(SEED, i).inverted).count();
    assert_eq!(inverted, flagged);
}

#[test]
fn bytes_do_not_depend_on_the_thread_count() {
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| batch(77, 1_000_000, 5_000))
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
    // And a batch is the concatenation of single samples.
    for i in [0, 1234, 4999] {
        let (image, label) = shapeset::sample(77, 1_000_000 + i as u64);
        assert_eq!(&one.0[i * IMAGE_DIM..(i + 1) * IMAGE_DIM], &image[..]);
        assert_eq!(one.1[i], label);
    }
}
