//! Polygon fill, pixel for pixel as pygame 1.8.1 `draw.polygon(surface, colour, points, 0)`
//! does it (`draw_fillpoly` in pygame's src/draw.c; Shapeset's README asks for 1.8.1).
//!
//! Integer vertices; for each scanline y from the top vertex to the bottom one, every
//! non-horizontal edge with y in [y_top, y_bottom) contributes the crossing
//! `(y - y1) * (x2 - x1) / (y2 - y1) + x1` in C integer division (truncating toward zero);
//! the bottom scanline takes the edges that end on it instead. Crossings are sorted and
//! filled pairwise, both ends included. (pygame 1.9 later added a special case for polygons
//! one pixel high; no Shapeset-3x2 shape is under 4 pixels high, so the two agree here.)

use super::geometry::MAX_VERTICES;
use super::IMAGE_SIDE;

/// Fills a polygon of at most `MAX_VERTICES` vertices `[x, y]` into a row-major
/// `IMAGE_SIDE` x `IMAGE_SIDE` image, clipping to it as pygame's surface clip does.
pub fn fill_polygon(image: &mut [u8], vertices: &[[i32; 2]], grey: u8) {
    let n = vertices.len();
    let top = vertices.iter().map(|v| v[1]).min().unwrap_or(0);
    let bottom = vertices.iter().map(|v| v[1]).max().unwrap_or(-1);
    // Non-horizontal edges as (upper end, lower end), found once rather than per scanline.
    let mut edges = [([0i32; 2], [0i32; 2]); MAX_VERTICES];
    let mut edge_count = 0;
    for i in 0..n {
        let (a, b) = (vertices[(i + n - 1) % n], vertices[i]);
        if a[1] != b[1] {
            edges[edge_count] = if a[1] < b[1] { (a, b) } else { (b, a) };
            edge_count += 1;
        }
    }
    let mut crossings = [0i32; MAX_VERTICES];
    for y in top..=bottom {
        let mut count = 0;
        for &(upper, lower) in &edges[..edge_count] {
            let inside = y >= upper[1] && y < lower[1];
            let ends_on_bottom = y == bottom && y > upper[1] && y <= lower[1];
            if inside || ends_on_bottom {
                crossings[count] =
                    (y - upper[1]) * (lower[0] - upper[0]) / (lower[1] - upper[1]) + upper[0];
                count += 1;
            }
        }
        let crossings = &mut crossings[..count];
        crossings.sort_unstable();
        for span in crossings.chunks_exact(2) {
            horizontal_line(image, y, span[0], span[1], grey);
        }
    }
}

fn horizontal_line(image: &mut [u8], y: i32, x1: i32, x2: i32, grey: u8) {
    let side = IMAGE_SIDE as i32;
    if !(0..side).contains(&y) {
        return;
    }
    let (x1, x2) = (x1.max(0), x2.min(side - 1));
    if x1 > x2 {
        return;
    }
    let row = y as usize * IMAGE_SIDE;
    image[row + x1 as usize..=row + x2 as usize].fill(grey);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IMAGE_DIM;

    fn draw(vertices: &[[i32; 2]]) -> Vec<u8> {
        let mut image = vec![0u8; IMAGE_DIM];
        fill_polygon(&mut image, vertices, 1);
        image
    }

    fn filled(image: &[u8]) -> Vec<(usize, usize)> {
        (0..IMAGE_DIM)
            .filter(|&i| image[i] == 1)
            .map(|i| (i % IMAGE_SIDE, i / IMAGE_SIDE))
            .collect()
    }

    #[test]
    fn axis_aligned_rectangle_includes_both_ends() {
        let image = draw(&[[2, 3], [6, 3], [6, 5], [2, 5]]);
        let want: Vec<_> = (3..=5).flat_map(|y| (2..=6).map(move |x| (x, y))).collect();
        assert_eq!(filled(&image), want);
    }

    #[test]
    fn triangle_matches_pygame_crossings() {
        // Edges (0,0)-(4,4) and (0,0)-(0,4) plus a flat bottom: row y spans x = 0..=y,
        // bottom row from the two edges ending on it.
        let image = draw(&[[0, 0], [4, 4], [0, 4]]);
        let want: Vec<_> = (0..=4)
            .flat_map(|y| (0..=y).map(move |x| (x as usize, y as usize)))
            .collect();
        assert_eq!(filled(&image), want);
    }

    #[test]
    fn crossings_truncate_toward_zero_on_negative_slopes() {
        // Edge from (5,0) down-left to (0,3): at y=1, (1*-5)/3 = -1 (C truncation), x = 4.
        let image = draw(&[[5, 0], [5, 3], [0, 3]]);
        let row1: Vec<_> = filled(&image).into_iter().filter(|p| p.1 == 1).collect();
        assert_eq!(row1, vec![(4, 1), (5, 1)]);
    }

    #[test]
    fn clips_to_the_image() {
        let image = draw(&[[-5, -5], [40, -5], [40, 40], [-5, 40]]);
        assert!(image.iter().all(|&p| p == 1));
    }
}
