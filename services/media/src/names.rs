//! Turning an uploaded file name into a safe display name.

/// Long enough for any real file name, short enough for a chat bubble.
pub const MAX_NAME_CHARS: usize = 120;
/// Extensions longer than this are not worth keeping when shortening.
const MAX_EXT_CHARS: usize = 16;

/// Keeps only the last path component, drops control and bidi-override
/// characters (U+202E can make `evil<U+202E>gnp.exe` display as `evilexe.png`), trims, refuses `.`/`..`,
/// and shortens to [`MAX_NAME_CHARS`] while keeping the extension. Falls back
/// to `fallback` when nothing displayable is left.
pub fn display_name(raw: &str, fallback: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !is_hidden(*c)).collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() {
        return fallback.to_owned();
    }
    shorten(trimmed)
}

fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' // zero-width and directional marks
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{FEFF}')
}

fn shorten(name: &str) -> String {
    if name.chars().count() <= MAX_NAME_CHARS {
        return name.to_owned();
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|ext| !ext.is_empty() && ext.chars().count() <= MAX_EXT_CHARS);
    match ext {
        Some(ext) => {
            let keep = MAX_NAME_CHARS - ext.chars().count() - 1;
            let stem: String = name.chars().take(keep).collect();
            format!("{}.{ext}", stem.trim_end())
        }
        None => name
            .chars()
            .take(MAX_NAME_CHARS)
            .collect::<String>()
            .trim_end()
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_ordinary_names() {
        assert_eq!(
            display_name("holiday photo.jpg", "file"),
            "holiday photo.jpg"
        );
        assert_eq!(
            display_name("Résumé – final.pdf", "file"),
            "Résumé – final.pdf"
        );
    }

    #[test]
    fn drops_path_parts() {
        assert_eq!(display_name("../../etc/passwd", "file"), "passwd");
        assert_eq!(display_name("C:\\Users\\me\\cat.png", "file"), "cat.png");
        assert_eq!(display_name("dir/", "file"), "file");
        assert_eq!(display_name("..", "file"), "file");
        assert_eq!(display_name(".bashrc", "file"), "bashrc");
    }

    #[test]
    fn drops_control_and_bidi_characters() {
        assert_eq!(display_name("a\nb\tc\0.txt", "file"), "abc.txt");
        assert_eq!(display_name("evil\u{202E}gnp.exe", "file"), "evilgnp.exe");
        assert_eq!(display_name("\u{7}\u{1b}", "avatar"), "avatar");
        assert_eq!(display_name("   ", "file"), "file");
    }

    #[test]
    fn bounds_length_keeping_the_extension() {
        let long = format!("{}.png", "x".repeat(500));
        let name = display_name(&long, "file");
        assert_eq!(name.chars().count(), MAX_NAME_CHARS);
        assert!(name.ends_with(".png"));
        let wide = "é".repeat(300);
        assert_eq!(display_name(&wide, "file").chars().count(), MAX_NAME_CHARS);
    }
}
