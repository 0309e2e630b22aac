//! The repository skeleton that `memdir init` lays down, embedded from `memory-template/`.
//!
//! The files are real files in the source tree (edit them there); this module only lists them.
//! A test fails if a file is added to `memory-template/` without being listed here.

macro_rules! template_files {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../memory-template/", $path)))),*]
    };
}

/// Every template file as `(path relative to the repository root, contents)`.
pub const FILES: &[(&str, &str)] = template_files!(
    ".gitattributes",
    ".gitignore",
    "MEMORY.md",
    "README.md",
    "memory.toml",
    "event/README.md",
    "fact/README.md",
    "note/README.md",
    "preference/README.md",
    "procedure/README.md",
    "summary/README.md",
);

/// Returns the contents of one template file.
pub fn file(path: &str) -> Option<&'static str> {
    FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_memory_template_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("memory-template");
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    on_disk.push(
                        path.strip_prefix(&root)
                            .unwrap()
                            .to_string_lossy()
                            .replace('\\', "/"),
                    );
                }
            }
        }
        on_disk.sort();
        let mut listed: Vec<String> = FILES.iter().map(|(p, _)| p.to_string()).collect();
        listed.sort();
        assert_eq!(listed, on_disk);
    }
}
