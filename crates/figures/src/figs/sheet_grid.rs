//! The 8x8 sample sheet of the paper's Fig 1: images enlarged, class names under them.
//!
//! Moved here from the generator crate so that the generator (which `train` links) does not
//! link plotters: drawing is the figures crate's job, generating is `shapeset`'s.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{anyhow, ensure, Context, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use shapeset::{sample, CLASS_NAMES, IMAGE_SIDE};

const COLUMNS: usize = 8;
const ZOOM: usize = 4;
const TILE: usize = IMAGE_SIDE * ZOOM;
const LABEL_BAND: usize = 26;
const GAP: usize = 10;
const WIDTH: usize = COLUMNS * TILE + (COLUMNS + 1) * GAP;
const HEIGHT: usize = COLUMNS * (TILE + LABEL_BAND) + (COLUMNS + 1) * GAP;
const FONT: &str = "sans-serif";

/// Writes images `0..64` of stream `seed` as an 8x8 labelled PNG sheet, atomically.
pub fn grid_png(seed: u64, path: &Path) -> Result<()> {
    let rgb = render(seed)
        .with_context(|| format!("drawing the Shapeset grid for {}", path.display()))?;
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, WIDTH as u32, HEIGHT as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(&rgb)?;
    store::atomic::write_atomic(path, &png_bytes)
        .with_context(|| format!("writing {}", path.display()))
}

/// The sheet as RGB bytes, `WIDTH x HEIGHT`.
fn render(seed: u64) -> Result<Vec<u8>> {
    register_font()?;
    let mut rgb = vec![255u8; WIDTH * HEIGHT * 3];
    let mut labels = Vec::with_capacity(COLUMNS * COLUMNS);
    for i in 0..COLUMNS * COLUMNS {
        let (image, label) = sample(seed, i as u64);
        let (left, top) = tile_origin(i);
        blit(&mut rgb, &image, left, top);
        labels.push((
            CLASS_NAMES[usize::from(label)],
            left + TILE / 2,
            top + TILE + 3,
        ));
    }
    // Plotters draws the text over the pixels already in the buffer.
    let root =
        BitMapBackend::with_buffer(&mut rgb, (WIDTH as u32, HEIGHT as u32)).into_drawing_area();
    let style = TextStyle::from((FONT, 20).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for (name, x, y) in labels {
        root.draw_text(name, &style, (x as i32, y as i32))
            .map_err(|e| anyhow!("drawing label {name}: {e}"))?;
    }
    root.present()
        .map_err(|e| anyhow!("finishing the sheet: {e}"))?;
    drop(root);
    Ok(rgb)
}

fn tile_origin(i: usize) -> (usize, usize) {
    let (row, column) = (i / COLUMNS, i % COLUMNS);
    (
        GAP + column * (TILE + GAP),
        GAP + row * (TILE + LABEL_BAND + GAP),
    )
}

/// Nearest-neighbour enlargement of one grey image into the RGB sheet.
fn blit(rgb: &mut [u8], image: &[u8], left: usize, top: usize) {
    for y in 0..TILE {
        for x in 0..TILE {
            let grey = image[(y / ZOOM) * IMAGE_SIDE + x / ZOOM];
            let at = ((top + y) * WIDTH + left + x) * 3;
            rgb[at..at + 3].fill(grey);
        }
    }
}

/// Plotters finds fonts by family name; the DejaVu bytes are compiled in, so the sheet
/// looks the same on machines without system fonts.
fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let registered = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
    });
    ensure!(registered, "the embedded DejaVu Sans font did not load");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_draws_64_enlarged_samples_with_labels() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("grid.png");
        grid_png(3, &out).unwrap();
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut rgb = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut rgb).unwrap();
        let (width, height) = (info.width as usize, info.height as usize);
        assert_eq!((width, height), (WIDTH, HEIGHT));
        assert_eq!((width, height), (1114, 1322));
        let grey = |x: usize, y: usize| {
            let at = (y * width + x) * 3;
            assert!(rgb[at] == rgb[at + 1] && rgb[at + 1] == rgb[at + 2]);
            rgb[at]
        };
        // Tile (row 2, column 5) shows sample 21 at 4x: tiles start at 10 + k * (128 + gap).
        let (image, _) = sample(3, 21);
        let (left, top) = tile_origin(2 * COLUMNS + 5);
        assert_eq!((left, top), (10 + 5 * 138, 10 + 2 * (128 + 26 + 10)));
        for y in 0..IMAGE_SIDE {
            for x in 0..IMAGE_SIDE {
                assert_eq!(
                    grey(left + 4 * x + 1, top + 4 * y + 2),
                    image[y * IMAGE_SIDE + x]
                );
            }
        }
        // The label band under the tile holds dark text on white.
        let band = (top + 128..top + 154).flat_map(|y| (left..left + 128).map(move |x| (x, y)));
        let dark = band.filter(|&(x, y)| grey(x, y) < 100).count();
        assert!(dark > 20, "label band has {dark} dark pixels");
    }
}
