//! One image: the scene (colours, shapes, label) drawn from `(seed, index)`, and its pixels.

use anyhow::{ensure, Result};
use rayon::prelude::*;

use super::geometry::{Geometry, Shape, ShapeKind, MAX_VERTICES};
use super::raster::fill_polygon;
use super::rng::ImageRng;
use super::{Params, IMAGE_DIM, IMAGE_SIDE};

const SIDE: f64 = IMAGE_SIDE as f64;

/// At most two shapes per image in Shapeset-3x2.
pub const MAX_SHAPES: usize = 2;

/// Class of an unordered pair of shape kinds, indexed [T, P, E] x [T, P, E].
const PAIR_LABEL: [[u8; 3]; 3] = [[6, 3, 5], [3, 7, 4], [5, 4, 8]];

/// The class of an image holding `kinds` (one or two shapes).
pub fn label_of(kinds: &[ShapeKind]) -> u8 {
    match kinds {
        [one] => *one as u8,
        [a, b] => PAIR_LABEL[*a as usize][*b as usize],
        _ => panic!(
            "Shapeset-3x2 images hold one or two shapes, not {}",
            kinds.len()
        ),
    }
}

/// What one image shows, before rasterisation.
#[derive(Clone, Debug)]
pub struct Scene {
    /// Dark shapes on a light background (the colour ranges swapped).
    pub inverted: bool,
    pub background: u8,
    /// How many shapes were asked for (1 or 2); `shapes().len()` is smaller by the dropped one.
    pub requested: usize,
    shapes: [Shape; MAX_SHAPES],
    greys: [u8; MAX_SHAPES],
    count: usize,
}

impl Scene {
    /// The shapes in drawing order (later ones occlude earlier ones).
    pub fn shapes(&self) -> &[Shape] {
        &self.shapes[..self.count]
    }

    /// The grey of each shape, parallel to `shapes()`.
    pub fn greys(&self) -> &[u8] {
        &self.greys[..self.count]
    }

    /// The class: from the shapes actually drawn, so an image whose second shape was
    /// dropped is labelled by its single remaining shape (as the original's `output`).
    pub fn label(&self) -> u8 {
        let mut kinds = [ShapeKind::Triangle; MAX_SHAPES];
        for (kind, shape) in kinds.iter_mut().zip(self.shapes()) {
            *kind = shape.kind;
        }
        label_of(&kinds[..self.count])
    }

    /// Fills `image` (row-major, `IMAGE_DIM` bytes): background, then each shape in order.
    pub fn render(&self, image: &mut [u8]) {
        assert_eq!(image.len(), IMAGE_DIM, "an image is {IMAGE_DIM} bytes");
        image.fill(self.background);
        for (shape, &grey) in self.shapes().iter().zip(self.greys()) {
            let mut vertices = [[0i32; 2]; MAX_VERTICES];
            let n = shape.kind.vertices();
            for (slot, vertex) in vertices.iter_mut().zip(shape.pixel_vertices()) {
                *slot = vertex;
            }
            fill_polygon(image, &vertices[..n], grey);
        }
    }
}

/// A Shapeset generator for one parameter set.
pub struct Generator {
    params: Params,
    geometry: Geometry,
}

impl Generator {
    pub fn new(params: Params) -> Result<Self> {
        params.validate()?;
        let geometry = Geometry::new(&params);
        Ok(Self { params, geometry })
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The scene of image `index` of stream `seed`, drawing in the original's order:
    /// inversion, shape count, background grey, then per shape its kind, rotations,
    /// scales and translation (redrawn on rejection) and grey.
    pub fn scene(&self, seed: u64, index: u64) -> Scene {
        let mut rng = ImageRng::new(seed, index);
        let inverted = rng.unit() <= self.params.invert_chance;
        let (foreground, background) = if inverted {
            (self.params.background, self.params.foreground)
        } else {
            (self.params.foreground, self.params.background)
        };
        let requested = 1 + rng.below(MAX_SHAPES as u32) as usize;
        let (low, high) = grey_range(background);
        let mut scene = Scene {
            inverted,
            background: rng.inclusive(low, high),
            requested,
            shapes: [Shape::default(); MAX_SHAPES],
            greys: [0; MAX_SHAPES],
            count: 0,
        };
        let (low, high) = grey_range(foreground);
        while scene.count < requested {
            let kind = ShapeKind::ALL[rng.below(3) as usize];
            let Some(shape) = self.geometry.place(&mut rng, kind, scene.shapes()) else {
                break;
            };
            scene.shapes[scene.count] = shape;
            scene.greys[scene.count] = rng.inclusive(low, high);
            scene.count += 1;
        }
        scene
    }

    /// Renders image `index` of stream `seed` into `image` and returns its label.
    pub fn sample_into(&self, seed: u64, index: u64, image: &mut [u8]) -> u8 {
        let scene = self.scene(seed, index);
        scene.render(image);
        scene.label()
    }

    /// Images `offset..offset + labels.len()` of stream `seed` into `pixels` and `labels`.
    /// Each image depends only on `(seed, index)`, so the bytes are the same for any
    /// number of threads.
    pub fn fill_batch(&self, seed: u64, offset: u64, pixels: &mut [u8], labels: &mut [u8]) {
        assert_eq!(
            pixels.len(),
            labels.len() * IMAGE_DIM,
            "pixels must hold one image per label"
        );
        let one = |(i, (image, label)): (usize, (&mut [u8], &mut u8))| {
            *label = self.sample_into(seed, offset + i as u64, image);
        };
        // A training minibatch (10 images) costs less than waking the thread pool.
        if labels.len() <= PARALLEL_MIN {
            pixels
                .chunks_mut(IMAGE_DIM)
                .zip(labels.iter_mut())
                .enumerate()
                .for_each(one);
        } else {
            pixels
                .par_chunks_mut(IMAGE_DIM)
                .zip(labels.par_iter_mut())
                .enumerate()
                .with_min_len(PARALLEL_MIN)
                .for_each(one);
        }
    }
}

/// Images per rayon task: about 0.2 ms of work, well above the scheduling cost.
const PARALLEL_MIN: usize = 64;

/// The original's grey range: `randint(int(lo * 255), 1 + int(hi * 255))`.
fn grey_range((low, high): (f64, f64)) -> (u8, u8) {
    ((low * 255.0) as u8, (high * 255.0) as u8)
}

impl Params {
    /// Checks the ranges the generator relies on.
    pub fn validate(&self) -> Result<()> {
        for (name, (low, high)) in [
            ("foreground", self.foreground),
            ("background", self.background),
            ("scale", self.scale),
        ] {
            ensure!(
                (0.0..=1.0).contains(&low) && (0.0..=1.0).contains(&high) && low <= high,
                "shapeset {name} range [{low}, {high}] must lie in [0, 1] with low <= high"
            );
        }
        // A shape spans at most scale x side pixels plus a 1-pixel margin on each side.
        ensure!(
            self.scale.1 * SIDE + 2.0 <= SIDE,
            "shapeset scale {} leaves no room for the 1-pixel margin (at most {})",
            self.scale.1,
            (SIDE - 2.0) / SIDE
        );
        ensure!(
            (0.0..=1.0).contains(&self.invert_chance),
            "shapeset invert chance {} must be in [0, 1]",
            self.invert_chance
        );
        ensure!(
            self.rotation_resolution >= MAX_VERTICES as u32,
            "shapeset rotation resolution {} must be at least {MAX_VERTICES}",
            self.rotation_resolution
        );
        ensure!(
            self.rejection_max >= 1,
            "shapeset rejection max must be at least 1"
        );
        ensure!(self.overlap_max >= 0.0, "shapeset overlap max must be >= 0");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_original_convertout() {
        use ShapeKind::*;
        let cases: [(&[ShapeKind], u8); 12] = [
            (&[Triangle], 0),
            (&[Parallelogram], 1),
            (&[Ellipse], 2),
            (&[Triangle, Parallelogram], 3),
            (&[Parallelogram, Triangle], 3),
            (&[Parallelogram, Ellipse], 4),
            (&[Ellipse, Parallelogram], 4),
            (&[Triangle, Ellipse], 5),
            (&[Ellipse, Triangle], 5),
            (&[Triangle, Triangle], 6),
            (&[Parallelogram, Parallelogram], 7),
            (&[Ellipse, Ellipse], 8),
        ];
        for (kinds, label) in cases {
            assert_eq!(label_of(kinds), label, "{kinds:?}");
        }
    }

    #[test]
    fn grey_ranges_match_the_original_integer_bounds() {
        assert_eq!(grey_range((0.55, 1.0)), (140, 255));
        assert_eq!(grey_range((0.0, 0.45)), (0, 114));
    }

    #[test]
    fn scenes_are_drawn_in_their_colour_ranges() {
        let generator = Generator::new(Params::default()).unwrap();
        for index in 0..500 {
            let scene = generator.scene(11, index);
            let (shape_range, background_range) = if scene.inverted {
                (0..=114, 140..=255)
            } else {
                (140..=255, 0..=114)
            };
            assert!(background_range.contains(&scene.background));
            assert!(scene.greys().iter().all(|g| shape_range.contains(g)));
            assert!((1..=scene.requested).contains(&scene.shapes().len()));
        }
    }

    #[test]
    fn invalid_params_are_refused_with_a_reason() {
        let too_big = Params {
            scale: (0.2, 0.95),
            ..Params::default()
        };
        let err = Generator::new(too_big).err().unwrap().to_string();
        assert!(err.contains("margin"), "{err}");
        let reversed = Params {
            foreground: (0.9, 0.1),
            ..Params::default()
        };
        assert!(Generator::new(reversed).is_err());
    }
}
