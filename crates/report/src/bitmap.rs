//! A bitmap backend with correct glyph placement.
//!
//! plotters 0.3.7 rasterises `ab_glyph` text by drawing each glyph's outline at the pen
//! position but ignores the glyph's left side bearing, so letters are unevenly spaced
//! ("conv ersion"). [`TextFixBackend`] wraps a [`BitMapBackend`], forwards all drawing to it and
//! replaces only `draw_text` with a rasteriser that positions glyphs properly. Text layout
//! (sizes, anchors, rotation) follows plotters' own rules, so charts lay out exactly as before.

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, ScaleFont};
use plotters::prelude::BitMapBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

use crate::common::DEJAVU_SANS;

type BitMapError = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

fn dejavu() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(DEJAVU_SANS).ok())
        .as_ref()
}

/// A [`BitMapBackend`] whose text rendering places glyphs with their side bearings.
pub(crate) struct TextFixBackend<'a>(pub(crate) BitMapBackend<'a>);

/// Calls `put(x, y, coverage)` for every pixel of `text` set in the bundled font at `size`,
/// relative to the top-left corner of plotters' layout box for that text (whose height is
/// `size / 1.24`); capital letters are centred vertically in that box.
fn rasterise<E>(
    font: &FontRef<'static>,
    text: &str,
    size: f64,
    mut put: impl FnMut(i32, i32, f32) -> Result<(), E>,
) -> Result<(), E> {
    let px = size as f32;
    let scaled = font.as_scaled(px);
    let cap = font
        .outline_glyph(scaled.scaled_glyph('H'))
        .map(|g| -g.px_bounds().min.y)
        .unwrap_or(px * 0.63);
    let box_h = (size / 1.24) as f32;
    let baseline = ((box_h + cap) / 2.0).round();
    let mut caret = 0.0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            caret += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(px, point(caret.round(), baseline));
        if let Some(outline) = font.outline_glyph(glyph) {
            let b = outline.px_bounds();
            let (x0, y0) = (b.min.x as i32, b.min.y as i32);
            let mut result = Ok(());
            outline.draw(|x, y, cov| {
                if result.is_ok() && cov > 0.0 {
                    result = put(x0 + x as i32, y0 + y as i32, cov.min(1.0));
                }
            });
            result?;
        }
        caret += scaled.h_advance(id);
        prev = Some(id);
    }
    Ok(())
}

impl DrawingBackend for TextFixBackend<'_> {
    type ErrorType = BitMapError;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.0.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.0.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.0.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.0.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<BitMapError>> {
        self.0.estimate_text_size(text, style)
    }

    /// Same anchoring and rotation as plotters' default `draw_text`, with our rasteriser.
    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        let Some(font) = dejavu() else {
            return self.0.draw_text(text, style, pos);
        };
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let (w, h) = self.get_size();
        let backend = &mut self.0;
        rasterise(font, text, style.size(), |x, y, cov| {
            let (x, y) = trans.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                let c = BackendColor {
                    alpha: color.alpha * f64::from(cov),
                    rgb: color.rgb,
                };
                backend.draw_pixel((x, y), c)
            } else {
                Ok(())
            }
        })
    }
}
