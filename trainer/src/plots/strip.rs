//! The pretext tasks' part of `predictions.png`: one row per task, its
//! inputs and outputs side by side with a caption under each.

use image::{Rgb, RgbImage, imageops};

use super::canvas::Canvas;
use crate::pretext::Image;
use crate::tasks::SheetCell;

const CELL: u32 = 96;
const GAP: u32 = 4;
const TITLE: u32 = 14;
const CAPTION: u32 = 12;

fn picture(img: &Image) -> RgbImage {
    let raw = RgbImage::from_fn(img.w as u32, img.h as u32, |x, y| {
        Rgb(img
            .rgb(y as usize, x as usize)
            .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8))
    });
    imageops::resize(&raw, CELL, CELL, imageops::FilterType::Nearest)
}

/// Draws `rows` (task name, cells) one under the other.
pub fn render(rows: &[(&str, Vec<SheetCell>)]) -> Canvas {
    let cols = rows.iter().map(|(_, c)| c.len()).max().unwrap_or(0) as u32;
    let row_h = TITLE + CELL + CAPTION + GAP;
    let mut c = Canvas::new(
        (cols * (CELL + GAP) + GAP).max(200),
        rows.len() as u32 * row_h + GAP,
    );
    for (r, (name, cells)) in rows.iter().enumerate() {
        let y = (GAP + r as u32 * row_h) as i64;
        c.text(GAP as i64, y + 2, name, [0, 0, 0]);
        for (k, cell) in cells.iter().enumerate() {
            let x = (GAP + k as u32 * (CELL + GAP)) as i64;
            c.blit(x, y + TITLE as i64, &picture(&cell.image));
            c.text(
                x,
                y + (TITLE + CELL + 2) as i64,
                &cell.caption,
                [60, 60, 60],
            );
        }
    }
    c
}

/// `top` above `bottom`, left-aligned, on white.
pub fn stack(top: &Canvas, bottom: &Canvas) -> Canvas {
    let w = top.img.width().max(bottom.img.width());
    let mut c = Canvas::new(w, top.img.height() + bottom.img.height());
    c.blit(0, 0, &top.img);
    c.blit(0, top.img.height() as i64, &bottom.img);
    c
}
