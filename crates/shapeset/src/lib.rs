//! The Shapeset-3x2 generator: 32x32 grey images of one or two shapes (triangle,
//! parallelogram, ellipse) in 9 classes, an endless stream addressable by `(seed, index)`.
//!
//! A crate of its own because `train` streams its training images from it: what `train`
//! links must not include the download code (ureq, tar, flate2, in `fetch`) or the drawing
//! code (plotters; the Fig 1 sheet lives in `figures`), so an edit to either changes no
//! training key. Here too: the pinned valid/test sets as a `dataset.h5` store entry
//! ([`artifact`]), `shapeset generate` ([`h5`]) and the throughput benchmark ([`bench`]).
//!
//! Must not know: tch, plotters, the network.
//!
//! A port of glorotxa/Shapeset (`polygongen.py` places the polygons, `buildfeaturespolygon.py`
//! draws them with pygame, `simpleexemple.py` holds the Shapeset-3x2 parameters and the
//! class mapping), with the parameters of [`Params::default`]. Per image:
//! 1. colour ranges: shapes in [0.55, 1], background in [0, 0.45], swapped with chance 0.5
//!    ([`Scene::inverted`]: dark shapes on a light background);
//! 2. one or two shapes, equally likely; a background grey, uniform over
//!    `int(lo*255)..=int(hi*255)`;
//! 3. per shape: a kind (uniform over T, P, E); a regular polygon (3, 4 or 20 vertices) on a
//!    radius-0.5 circle with a horizontal bottom edge; a pre-rotation within half a symmetry
//!    step; two scales uniform in [0.2, 0.8] x 32, larger first, applied to x and y; the
//!    counter-rotation that brings the base edge back to horizontal; a global rotation
//!    `k/255` turn, `k` in 0..254; a translation keeping every vertex 1 pixel inside the
//!    image; the original's area-ratio overlap estimate against the earlier shape (reject
//!    above 0.5 and redraw scales and translation, at most 50 draws, then drop the shape);
//!    a grey from the shape range;
//! 4. render: fill the background, then fill each polygon in order, later over earlier,
//!    with pygame's integer scanline fill on the truncated vertices ([`raster`]).
//!
//! Labels: 0 T, 1 P, 2 E, 3 T+P, 4 P+E, 5 T+E, 6 2T, 7 2P, 8 2E (the original's
//! `convertout`). When the second shape is dropped the image shows one shape and is
//! labelled by it, as in the original, whose `output` counts only the polygons it kept.
//! Drops are rare: none in 100k images, for the original as for this port (shapeset_stats).
//!
//! Checked against the original (locally, see bench/shapeset_original/README.md): given
//! the same draws, [`geometry::Geometry::outline`] reproduces `_corners`' vertices to 3e-14
//! (4490 shapes), the overlap test makes the same decision on 20000 random pairs, and
//! [`raster::fill_polygon`] matches pygame 1.8.1's `draw_fillpoly` on 2996 original
//! polygons pixel for pixel; over 100k images class frequencies, inversion rate and
//! covered-pixel counts per class agree within sampling noise.
//!
//! Deviations from the original, and why:
//! - Randomness: the original draws every image from one numpy `RandomState(seed)` in
//!   sequence. Here image `i` has its own xoshiro256++ keyed by `(seed, i)` ([`rng`]), so
//!   any image can be produced alone, batches split across threads with identical bytes,
//!   and a training run resumes from a position. The distribution is the same; the images
//!   are not the original's (reproducing those would need MT19937 plus numpy's sampling
//!   code and a sequential stream).
//! - Elementary functions: sines, cosines and `exp` come from fixed series in [`math`] and
//!   the original's `-atan(s1/s0 tan a)` counter-rotation is computed with one square root
//!   instead, so the bytes do not depend on the platform's libm. Vertices agree with the
//!   original's to 3e-14 pixels.
//! - Pixel order: images are row-major (`y * 32 + x`). The original returns pygame's
//!   `surfarray`, which is x-major, i.e. the transposed image. Transposition is a
//!   reflection, under which the shape distribution is symmetric (up to the 1/255-turn
//!   rotation steps), so only the storage order differs.
//! - Coincident centres: the original divides by a zero distance and accepts the shape;
//!   here it is rejected. This has probability zero.
//! - Integer draws use a multiply-shift with bias below 2^-56 (numpy's `randint` is exact).

pub mod artifact;
pub mod bench;
mod cleanup;
mod eval;
pub mod geometry;
mod h5;
pub mod math;
pub mod raster;
pub mod rng;
mod sample;
mod stream;

use std::sync::LazyLock;

pub use cleanup::remove_temp_files_on_signal;
pub use eval::{eval_sets, manifest, manifest_sha256, EvalSets, Manifest, PinnedSet};
pub use geometry::{Shape, ShapeKind};
pub use h5::{stream_h5_bytes, write_stream_h5};
pub use sample::{label_of, Generator, Scene, MAX_SHAPES};
pub use stream::Stream;

pub const IMAGE_SIDE: usize = 32;
pub const IMAGE_DIM: usize = IMAGE_SIDE * IMAGE_SIDE;
pub const CLASSES: usize = 9;

/// Identity of the generator's output. Bump it whenever a change alters any byte (the
/// pinned hashes in datasets/shapeset.toml then have to be renewed with it); it is part of
/// the store key of the Shapeset dataset artifact.
pub const GENERATOR: &str = "shapeset-v1";

/// Short class names, indexed by label.
pub const CLASS_NAMES: [&str; CLASSES] = ["T", "P", "E", "T+P", "P+E", "T+E", "2T", "2P", "2E"];

/// The generator's knobs, named after the original's `genparams`. Image size (32), shape
/// kinds ([3, 4, 20] vertices), shape count (1 or 2), position range [0, 1] and global
/// rotation range [0, 1) are fixed by the constants and labels of Shapeset-3x2.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Shape grey range as fractions of 255 (`fg_min`, `fg_max`).
    pub foreground: (f64, f64),
    /// Background grey range (`bg_min`, `bg_max`).
    pub background: (f64, f64),
    /// Chance that the two ranges are swapped (`inv_chance`).
    pub invert_chance: f64,
    /// Scale range as a fraction of the image side (`scale_min`, `scale_max`).
    pub scale: (f64, f64),
    /// Rotation steps per turn (`rotation_resolution`).
    pub rotation_resolution: u32,
    /// Largest accepted overlap estimate (`overlap_max`).
    pub overlap_max: f64,
    /// Draws of scale and translation before a shape is dropped (`rejectionmax`).
    pub rejection_max: u32,
}

impl Default for Params {
    /// Shapeset-3x2, as in the original's simpleexemple.py.
    fn default() -> Self {
        Self {
            foreground: (0.55, 1.0),
            background: (0.0, 0.45),
            invert_chance: 0.5,
            scale: (0.2, 0.8),
            rotation_resolution: 255,
            overlap_max: 0.5,
            rejection_max: 50,
        }
    }
}

static SHAPESET_3X2: LazyLock<Generator> =
    LazyLock::new(|| Generator::new(Params::default()).expect("the default parameters are valid"));

/// The Shapeset-3x2 generator.
pub fn generator() -> &'static Generator {
    &SHAPESET_3X2
}

/// Image `index` of stream `seed`: its pixels (row-major grey, 0..=255) and label (0..9).
/// It depends on `(seed, index)` only.
pub fn sample(seed: u64, index: u64) -> ([u8; IMAGE_DIM], u8) {
    let mut image = [0u8; IMAGE_DIM];
    let label = generator().sample_into(seed, index, &mut image);
    (image, label)
}

/// The scene behind `sample(seed, index)`: colours, shapes and label before rasterising.
pub fn scene(seed: u64, index: u64) -> Scene {
    generator().scene(seed, index)
}

/// Images `offset..offset + n` of stream `seed`: `n * IMAGE_DIM` pixel bytes and `n`
/// labels, generated in parallel on the current rayon pool; the bytes do not depend on
/// the number of threads.
pub fn batch(seed: u64, offset: u64, n: usize) -> (Vec<u8>, Vec<u8>) {
    let mut pixels = vec![0u8; n * IMAGE_DIM];
    let mut labels = vec![0u8; n];
    fill_batch(seed, offset, &mut pixels, &mut labels);
    (pixels, labels)
}

/// `batch` into caller-owned buffers: `pixels.len()` must be `labels.len() * IMAGE_DIM`.
pub fn fill_batch(seed: u64, offset: u64, pixels: &mut [u8], labels: &mut [u8]) {
    generator().fill_batch(seed, offset, pixels, labels);
}
