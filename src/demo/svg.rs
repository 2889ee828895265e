//! Screenshots: a ratatui [`Buffer`], as the real renderer filled it,
//! written as an SVG image (one `<text>` run per stretch of equal style,
//! one `<rect>` per stretch of equal background).
//!
//! Written here rather than taken from a crate: the few buffer-to-SVG
//! crates render ANSI text streams, not a ratatui buffer, and would lose
//! the cell grid this needs. It is ~100 lines and has no I/O.

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

const CELL_W: f32 = 8.4;
const CELL_H: f32 = 17.0;
const FONT: &str = "'DejaVu Sans Mono', 'Menlo', 'Consolas', monospace";
/// The terminal's own colours where the theme leaves them unset.
const DEFAULT_FG: &str = "#d8dee9";
const DEFAULT_BG: &str = "#1d2021";

/// The SVG image of `buffer`, titled `title`.
pub fn render(buffer: &Buffer, title: &str) -> String {
    let area = buffer.area;
    let (w, h) = (
        f32::from(area.width) * CELL_W,
        f32::from(area.height) * CELL_H,
    );
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT}" font-size="14px">"#
    );
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" fill="{DEFAULT_BG}"/>"#
    );
    for y in 0..area.height {
        let mut x = 0;
        while x < area.width {
            let cell = &buffer[(area.x + x, area.y + y)];
            let bg = background(cell.fg, cell.bg, cell.modifier);
            let start = x;
            while x < area.width
                && background(
                    buffer[(area.x + x, area.y + y)].fg,
                    buffer[(area.x + x, area.y + y)].bg,
                    buffer[(area.x + x, area.y + y)].modifier,
                ) == bg
            {
                x += 1;
            }
            if let Some(bg) = bg {
                let _ = writeln!(
                    out,
                    r#"<rect x="{}" y="{}" width="{}" height="{CELL_H}" fill="{bg}"/>"#,
                    f32::from(start) * CELL_W,
                    f32::from(y) * CELL_H,
                    f32::from(x - start) * CELL_W,
                );
            }
        }
        let mut x = 0;
        while x < area.width {
            let cell = &buffer[(area.x + x, area.y + y)];
            let style = (foreground(cell.fg, cell.bg, cell.modifier), cell.modifier);
            let start = x;
            let mut text = String::new();
            while x < area.width {
                let c = &buffer[(area.x + x, area.y + y)];
                if (foreground(c.fg, c.bg, c.modifier), c.modifier) != style {
                    break;
                }
                text.push_str(c.symbol());
                x += 1;
            }
            if text.trim().is_empty() {
                continue;
            }
            let mut attrs = format!(r#" fill="{}""#, style.0);
            if style.1.contains(Modifier::BOLD) {
                attrs.push_str(r#" font-weight="bold""#);
            }
            if style.1.contains(Modifier::UNDERLINED) {
                attrs.push_str(r#" text-decoration="underline""#);
            }
            let _ = writeln!(
                out,
                r#"<text x="{}" y="{}" xml:space="preserve" textLength="{}"{attrs}>{}</text>"#,
                f32::from(start) * CELL_W,
                f32::from(y) * CELL_H + CELL_H * 0.78,
                f32::from(x - start) * CELL_W,
                escape(&text)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

fn background(fg: Color, bg: Color, modifier: Modifier) -> Option<String> {
    if modifier.contains(Modifier::REVERSED) {
        Some(color(fg).unwrap_or_else(|| DEFAULT_FG.to_owned()))
    } else {
        color(bg)
    }
}

fn foreground(fg: Color, bg: Color, modifier: Modifier) -> String {
    if modifier.contains(Modifier::REVERSED) {
        color(bg).unwrap_or_else(|| DEFAULT_BG.to_owned())
    } else {
        color(fg).unwrap_or_else(|| DEFAULT_FG.to_owned())
    }
}

/// CSS colour of a terminal colour; `None` for the terminal's default.
fn color(c: Color) -> Option<String> {
    let named = match c {
        Color::Reset => return None,
        Color::Black => "#282828",
        Color::Red => "#cc241d",
        Color::Green => "#98971a",
        Color::Yellow => "#d79921",
        Color::Blue => "#458588",
        Color::Magenta => "#b16286",
        Color::Cyan => "#689d6a",
        Color::Gray => "#a89984",
        Color::DarkGray => "#7c6f64",
        Color::LightRed => "#fb4934",
        Color::LightGreen => "#b8bb26",
        Color::LightYellow => "#fabd2f",
        Color::LightBlue => "#83a598",
        Color::LightMagenta => "#d3869b",
        Color::LightCyan => "#8ec07c",
        Color::White => "#ebdbb2",
        Color::Rgb(r, g, b) => return Some(format!("#{r:02x}{g:02x}{b:02x}")),
        Color::Indexed(i) => return Some(indexed(i)),
    };
    Some(named.to_owned())
}

/// The xterm 256-colour palette beyond the 16 named colours.
fn indexed(i: u8) -> String {
    match i {
        0..=15 => color(ANSI16[usize::from(i)]).unwrap_or_else(|| DEFAULT_FG.to_owned()),
        16..=231 => {
            let i = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            format!(
                "#{:02x}{:02x}{:02x}",
                level(i / 36),
                level((i / 6) % 6),
                level(i % 6)
            )
        }
        232..=255 => {
            let v = 8 + (i - 232) * 10;
            format!("#{v:02x}{v:02x}{v:02x}")
        }
    }
}

const ANSI16: [Color; 16] = [
    Color::Black,
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::Gray,
    Color::DarkGray,
    Color::LightRed,
    Color::LightGreen,
    Color::LightYellow,
    Color::LightBlue,
    Color::LightMagenta,
    Color::LightCyan,
    Color::White,
];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::style::{Color, Modifier, Style};

    #[test]
    fn text_colour_weight_and_escaping_survive() {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 12, 2));
        buffer.set_string(
            0,
            0,
            "✖ a<b",
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        );
        buffer.set_string(
            0,
            1,
            "sel",
            Style::default().add_modifier(Modifier::REVERSED),
        );
        let svg = super::render(&buffer, "t");
        assert!(
            svg.contains(r##"fill="#cc241d" font-weight="bold">✖ a&lt;b</text>"##),
            "{svg}"
        );
        // Reversed: the default foreground becomes the background.
        assert!(svg.contains(r##"fill="#d8dee9"/>"##), "{svg}");
    }
}
