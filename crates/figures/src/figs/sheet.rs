//! Fig 1: the Shapeset-3x2 sample sheet. `sheet_grid` draws the sheet
//! (`sheet_grid::grid_png`); this adds the caption line and an SVG. The sheet is pixels by
//! nature, so `fig1.svg` embeds the PNG (base64) instead of redrawing 65k pixels as vectors,
//! and both keep the sheet's own size (`--width/--height` do not apply).

use crate::canvas::encode_png;
use crate::style;
use anyhow::{anyhow, bail, Context, Result};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// The generator seed of the sheet (the paper's Shapeset seed).
pub const SHEET_SEED: u64 = 0;

pub fn render(out: &Path, caption: &str) -> Result<Vec<PathBuf>> {
    // The sheet goes through a file in the system's temp dir, never in `out`, so that a
    // killed render leaves nothing half-made among the outputs.
    let scratch = tempfile::TempDir::new().context("creating a scratch dir")?;
    let grid_path = scratch.path().join("grid.png");
    super::sheet_grid::grid_png(SHEET_SEED, &grid_path)?;
    let (rgb, (width, height)) = decode_rgb(&std::fs::read(&grid_path)?)?;

    style::register_fonts();
    let caption_height = 48;
    let size = (width, height + caption_height);
    let mut canvas = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut canvas, size).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| anyhow!("drawing fig1: {e}"))?;
        let sheet = BitMapElement::with_owned_buffer((0, 0), (width, height), rgb)
            .context("sheet buffer has the wrong size")?;
        root.draw(&sheet)
            .map_err(|e| anyhow!("drawing fig1: {e}"))?;
        let text = style::font(15.0).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Center,
        ));
        let center = (width as i32 / 2, height as i32 + caption_height as i32 / 2);
        root.draw_text(caption, &text, center)
            .map_err(|e| anyhow!("drawing fig1: {e}"))?;
        root.present().map_err(|e| anyhow!("drawing fig1: {e}"))?;
    }
    let png = encode_png(&canvas, size)?;
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\">\n<title>{caption}</title>\n<image width=\"{w}\" height=\"{h}\" \
         href=\"data:image/png;base64,{data}\"/>\n</svg>\n",
        w = size.0,
        h = size.1,
        caption = escape_xml(caption),
        data = base64(&png),
    );
    let (png_path, svg_path) = (out.join("fig1.png"), out.join("fig1.svg"));
    store::atomic::write_atomic(&png_path, &png)
        .with_context(|| format!("writing {}", png_path.display()))?;
    store::atomic::write_atomic(&svg_path, svg.as_bytes())
        .with_context(|| format!("writing {}", svg_path.display()))?;
    Ok(vec![png_path, svg_path])
}

/// Any 8-bit or 16-bit PNG as 8-bit RGB.
fn decode_rgb(bytes: &[u8]) -> Result<(Vec<u8>, (u32, u32))> {
    let mut decoder = png::Decoder::new(bytes);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info()?;
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer)?;
    let pixels = &buffer[..info.buffer_size()];
    let rgb = match info.color_type {
        png::ColorType::Rgb => pixels.to_vec(),
        png::ColorType::Rgba => pixels.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        png::ColorType::Grayscale => pixels.iter().flat_map(|&g| [g, g, g]).collect(),
        png::ColorType::GrayscaleAlpha => pixels.chunks(2).flat_map(|p| [p[0]; 3]).collect(),
        other => bail!("unexpected PNG colour type {other:?} from the sheet"),
    };
    Ok((rgb, (info.width, info.height)))
}

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Standard base64 with padding (RFC 4648).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }
}
