//! Where each shape goes: its base polygon, rotations, scales, translation, and the
//! original's overlap heuristic against the shapes already placed.

use super::math::{exp2_neg, sin_cos_turns};
use super::rng::ImageRng;
use super::{Params, IMAGE_SIDE};

/// Vertices of the largest polygon (the 20-gon "ellipse").
pub const MAX_VERTICES: usize = 20;

const SIDE: f64 = IMAGE_SIDE as f64;

/// The three shape types, in the original's `n_vert_list` order [3, 4, 20].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShapeKind {
    Triangle = 0,
    Parallelogram = 1,
    Ellipse = 2,
}

impl ShapeKind {
    pub const ALL: [ShapeKind; 3] = [Self::Triangle, Self::Parallelogram, Self::Ellipse];

    pub fn vertices(self) -> usize {
        [3, 4, MAX_VERTICES][self as usize]
    }
}

/// A placed shape, in pixel coordinates (x right, y down, as pygame draws).
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub kind: ShapeKind,
    /// The two scales in pixels, larger first.
    pub scale: [f64; 2],
    /// The translation, i.e. where the base polygon's centre went.
    pub center: [f64; 2],
    points: [[f64; 2]; MAX_VERTICES],
}

impl Shape {
    /// A shape of `kind` whose `outline` (centred on the origin, see [`Geometry::outline`])
    /// is moved to `center`.
    pub fn at(
        kind: ShapeKind,
        scale: [f64; 2],
        center: [f64; 2],
        outline: [[f64; 2]; MAX_VERTICES],
    ) -> Shape {
        let mut points = outline;
        for point in &mut points[..kind.vertices()] {
            point[0] += center[0];
            point[1] += center[1];
        }
        Shape {
            kind,
            scale,
            center,
            points,
        }
    }

    pub fn points(&self) -> &[[f64; 2]] {
        &self.points[..self.kind.vertices()]
    }

    /// Vertices as pygame receives them: it converts each coordinate with C `(int)`, and
    /// all coordinates here are >= 1, so truncation is the floor.
    pub fn pixel_vertices(&self) -> impl Iterator<Item = [i32; 2]> + '_ {
        self.points().iter().map(|p| [p[0] as i32, p[1] as i32])
    }
}

impl Default for Shape {
    fn default() -> Self {
        Shape::at(
            ShapeKind::Triangle,
            [0.0; 2],
            [0.0; 2],
            [[0.0; 2]; MAX_VERTICES],
        )
    }
}

/// Everything about placement that does not change from image to image.
pub struct Geometry {
    /// `(cos, sin)` of `k / resolution` turns, the original's `rot_mats`.
    rotations: Vec<(f64, f64)>,
    /// Regular polygons on a radius-0.5 circle with a horizontal bottom edge.
    bases: [[[f64; 2]; MAX_VERTICES]; 3],
    /// Area of each regular polygon relative to its circle (`arearatio`).
    area_ratio: [f64; 3],
    scale: (f64, f64),
    overlap_max: f64,
    rejection_max: u32,
}

impl Geometry {
    pub fn new(params: &Params) -> Self {
        let resolution = params.rotation_resolution;
        let rotations = (0..resolution)
            .map(|k| {
                let (sin, cos) = sin_cos_turns(f64::from(k) / f64::from(resolution));
                (cos, sin)
            })
            .collect();
        let mut bases = [[[0.0; 2]; MAX_VERTICES]; 3];
        let mut area_ratio = [0.0; 3];
        for kind in ShapeKind::ALL {
            let n = kind.vertices() as f64;
            for (t, vertex) in bases[kind as usize][..kind.vertices()]
                .iter_mut()
                .enumerate()
            {
                // The original's n_sided: angle t/n + 1/(2n) + 1/4 turn puts one edge flat.
                let (sin, cos) = sin_cos_turns((2.0 * t as f64 + 1.0) / (2.0 * n) + 0.25);
                *vertex = [0.5 * cos, 0.5 * sin];
            }
            area_ratio[kind as usize] = n * sin_cos_turns(1.0 / n).0 / std::f64::consts::TAU;
        }
        Self {
            rotations,
            bases,
            area_ratio,
            scale: params.scale,
            overlap_max: params.overlap_max,
            rejection_max: params.rejection_max,
        }
    }

    fn resolution(&self) -> u32 {
        self.rotations.len() as u32
    }

    /// The original's `_corners`: draws a pre-rotation and a global rotation once, then
    /// scales and translations until the shape passes the overlap test against `earlier`.
    /// `None` when `rejection_max` draws in a row were rejected: the caller drops the shape.
    pub fn place(&self, rng: &mut ImageRng, kind: ShapeKind, earlier: &[Shape]) -> Option<Shape> {
        let pre = self.pre_rotation(rng, kind);
        // rot range [0, 1] at resolution R gives randint(0, R - 1): the last step never occurs.
        let global = rng.below(self.resolution() - 1) as usize;
        for _ in 0..self.rejection_max {
            let mut scale = [
                rng.uniform(self.scale.0, self.scale.1) * SIDE,
                rng.uniform(self.scale.0, self.scale.1) * SIDE,
            ];
            if scale[1] > scale[0] {
                scale.swap(0, 1);
            }
            let outline = self.outline(kind, pre, global, scale);
            let center = self.draw_center(&outline[..kind.vertices()], rng);
            let shape = Shape::at(kind, scale, center, outline);
            if earlier
                .iter()
                .all(|old| !self.overlaps_too_much(&shape, old))
            {
                return Some(shape);
            }
        }
        None
    }

    /// A pre-rotation within half a symmetry step either way, so that after the
    /// counter-rotation the shape is a random triangle/parallelogram/ellipse whose base
    /// is its horizontal bottom edge (the original's rot_idx1 arithmetic, integer division).
    fn pre_rotation(&self, rng: &mut ImageRng, kind: ShapeKind) -> usize {
        let (resolution, n) = (self.resolution(), kind.vertices() as u32);
        let step = rng.below(resolution / n);
        let index = if step > (resolution - 1) / (2 * n) {
            (resolution - (resolution - 1) / n + step).min(resolution - 1)
        } else {
            step
        };
        index as usize
    }

    /// The base polygon of `kind` rotated by step `pre`, scaled by `scale` along x and y,
    /// rotated back so its base edge is horizontal again, then rotated by step `global`;
    /// centred on the origin. (The original's `points_orig . r1 * s . r2 . r3`.)
    pub fn outline(
        &self,
        kind: ShapeKind,
        pre: usize,
        global: usize,
        scale: [f64; 2],
    ) -> [[f64; 2]; MAX_VERTICES] {
        let (cos1, sin1) = self.rotations[pre];
        let (cos3, sin3) = self.rotations[global];
        // The base edge, pre-rotated and scaled, points along (s0 cos, s1 sin); rotating
        // back by that angle keeps it horizontal. This is the original's
        // -atan(s1/s0 tan), written with one square root (cos > 0 for every pre-rotation).
        let (along, across) = (scale[0] * cos1, scale[1] * sin1);
        let length = (along * along + across * across).sqrt();
        let transform = mul(
            mul(
                mul(rotation(cos1, sin1), [[scale[0], 0.0], [0.0, scale[1]]]),
                rotation(along / length, -across / length),
            ),
            rotation(cos3, sin3),
        );
        let mut points = [[0.0; 2]; MAX_VERTICES];
        for (point, base) in points
            .iter_mut()
            .zip(&self.bases[kind as usize][..kind.vertices()])
        {
            *point = apply(base, transform);
        }
        points
    }

    /// Draws a translation that keeps every vertex at least one pixel inside the image.
    fn draw_center(&self, outline: &[[f64; 2]], rng: &mut ImageRng) -> [f64; 2] {
        let mut center = [0.0; 2];
        for (axis, c) in center.iter_mut().enumerate() {
            let low = outline
                .iter()
                .map(|p| p[axis])
                .fold(f64::INFINITY, f64::min);
            let high = outline
                .iter()
                .map(|p| p[axis])
                .fold(f64::NEG_INFINITY, f64::max);
            let from = (-(low - 1.0) / SIDE).max(0.0);
            let to = (1.0 - (high + 1.0) / SIDE).min(1.0);
            *c = rng.uniform(from, to) * SIDE;
        }
        center
    }

    fn area(&self, shape: &Shape) -> f64 {
        shape.scale[0] * shape.scale[1] * self.area_ratio[shape.kind as usize]
    }

    /// The original's overlap estimate: project both shapes on the line between their
    /// centres; if their reaches along it exceed the distance, the overlap fraction is
    /// guessed as 1 - 2^-(excess/distance), weighted by the ratio of areas (new over old).
    pub fn overlaps_too_much(&self, new: &Shape, old: &Shape) -> bool {
        // The original keeps centres in an int32 array, so the old centre is truncated.
        let anchor = [old.center[0].trunc(), old.center[1].trunc()];
        let towards = [new.center[0] - anchor[0], new.center[1] - anchor[1]];
        let distance = (towards[0] * towards[0] + towards[1] * towards[1]).sqrt();
        if distance == 0.0 {
            // The original divides by zero here and lets the shape through; coincident
            // centres overlap by any measure (and have probability zero anyway).
            return true;
        }
        let reach = |shape: &Shape, from: [f64; 2], sign: f64| {
            shape
                .points()
                .iter()
                .map(|p| sign * ((p[0] - from[0]) * towards[0] + (p[1] - from[1]) * towards[1]))
                .fold(f64::NEG_INFINITY, f64::max)
                / distance
        };
        let reach = reach(old, anchor, 1.0) + reach(new, new.center, -1.0);
        if reach < distance {
            return false;
        }
        let overlap = 1.0 - exp2_neg((reach - distance) / distance);
        self.area(new) * overlap / self.area(old) > self.overlap_max
    }
}

/// The original's rotation matrix `[[c, s], [-s, c]]`, applied to row vectors.
fn rotation(cos: f64, sin: f64) -> [[f64; 2]; 2] {
    [[cos, sin], [-sin, cos]]
}

fn mul(a: [[f64; 2]; 2], b: [[f64; 2]; 2]) -> [[f64; 2]; 2] {
    [
        [
            a[0][0] * b[0][0] + a[0][1] * b[1][0],
            a[0][0] * b[0][1] + a[0][1] * b[1][1],
        ],
        [
            a[1][0] * b[0][0] + a[1][1] * b[1][0],
            a[1][0] * b[0][1] + a[1][1] * b[1][1],
        ],
    ]
}

/// Row vector times matrix, as numpy.dot(points, m).
fn apply(p: &[f64; 2], m: [[f64; 2]; 2]) -> [f64; 2] {
    [
        p[0] * m[0][0] + p[1] * m[1][0],
        p[0] * m[0][1] + p[1] * m[1][1],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry() -> Geometry {
        Geometry::new(&Params::default())
    }

    #[test]
    fn base_polygons_have_a_flat_edge_and_radius_half() {
        let g = geometry();
        for kind in ShapeKind::ALL {
            let base = &g.bases[kind as usize][..kind.vertices()];
            for p in base {
                assert!(((p[0] * p[0] + p[1] * p[1]).sqrt() - 0.5).abs() < 1e-15);
            }
            // Vertices 0 and n-1 share the largest y (the bottom edge, y pointing down).
            let max_y = base.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
            assert!(
                (base[0][1] - max_y).abs() < 1e-15
                    && (base[kind.vertices() - 1][1] - max_y).abs() < 1e-15
            );
        }
        assert!((g.area_ratio[1] - 2.0 / std::f64::consts::PI).abs() < 1e-15);
    }

    #[test]
    fn pre_rotations_stay_within_half_a_symmetry_step() {
        let g = geometry();
        let mut rng = ImageRng::new(0, 0);
        for kind in ShapeKind::ALL {
            let limit = 255 / (2 * kind.vertices()) + 1;
            for _ in 0..2000 {
                let k = g.pre_rotation(&mut rng, kind);
                let signed = if k > 127 { k as i64 - 255 } else { k as i64 };
                assert!(signed.unsigned_abs() as usize <= limit, "{kind:?} {k}");
            }
        }
    }

    #[test]
    fn outline_keeps_the_base_flat_at_the_bottom_and_scales_the_area() {
        let g = geometry();
        for kind in ShapeKind::ALL {
            let n = kind.vertices();
            for pre in [0, 5, 40, 250] {
                let scale = [20.0, 8.0];
                let outline = g.outline(kind, pre, 0, scale);
                let points = &outline[..n];
                let bottom = points.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
                assert!((points[0][1] - bottom).abs() < 1e-12, "{kind:?} pre {pre}");
                assert!(
                    (points[n - 1][1] - bottom).abs() < 1e-12,
                    "{kind:?} pre {pre}"
                );
                // Shoelace area = det(transform) x base area = s0 s1 x ratio x pi/4.
                let area: f64 = (0..n)
                    .map(|i| {
                        let (a, b) = (points[i], points[(i + 1) % n]);
                        a[0] * b[1] - b[0] * a[1]
                    })
                    .sum::<f64>()
                    .abs()
                    / 2.0;
                let want =
                    scale[0] * scale[1] * g.area_ratio[kind as usize] * std::f64::consts::FRAC_PI_4;
                assert!((area - want).abs() < 1e-9, "{kind:?}: {area} vs {want}");
            }
            // The global rotation turns the base edge by k / 255 of a turn.
            let outline = g.outline(kind, 7, 51, [20.0, 8.0]);
            let edge = [
                outline[0][0] - outline[n - 1][0],
                outline[0][1] - outline[n - 1][1],
            ];
            let (sin, cos) = sin_cos_turns(51.0 / 255.0);
            let cross = edge[0] * sin - edge[1] * cos;
            assert!(
                cross.abs() < 1e-9 * edge[0].hypot(edge[1]),
                "{kind:?}: {edge:?}"
            );
        }
    }

    #[test]
    fn placed_shapes_keep_a_one_pixel_margin() {
        let g = geometry();
        for index in 0..2000 {
            let mut rng = ImageRng::new(3, index);
            let kind = ShapeKind::ALL[index as usize % 3];
            let shape = g
                .place(&mut rng, kind, &[])
                .expect("a lone shape is never rejected");
            for p in shape.points() {
                assert!(p.iter().all(|&c| (1.0..=SIDE - 1.0).contains(&c)), "{p:?}");
            }
            assert!(shape.scale[0] >= shape.scale[1]);
            assert!(shape
                .scale
                .iter()
                .all(|&s| (0.2 * SIDE..=0.8 * SIDE).contains(&s)));
        }
    }

    #[test]
    fn overlap_test_rejects_a_copy_and_accepts_a_far_small_shape() {
        let g = geometry();
        let mut rng = ImageRng::new(5, 5);
        let big = g.place(&mut rng, ShapeKind::Ellipse, &[]).unwrap();
        assert!(g.overlaps_too_much(&big, &big));
        let mut copy = big;
        copy.center[0] += 0.5;
        assert!(g.overlaps_too_much(&copy, &big));
        let far = [big.center[0] + 40.0, big.center[1]];
        let small = Shape::at(
            ShapeKind::Triangle,
            [0.1, 0.1],
            far,
            [[0.0; 2]; MAX_VERTICES],
        );
        assert!(!g.overlaps_too_much(&small, &big));
    }
}
