//! Reading what a command is given on stdin or in a file: the one place that words the
//! errors ("no memory text given", "cannot read ... from stdin") and refuses a terminal where a
//! pipe was meant.

use std::io::{IsTerminal, Read};
use std::path::Path;

use super::CliError;

/// Reads all of stdin as the command's `what` ("memory text", "transcript"). With
/// `refuse_terminal`, stdin that is a terminal is an error with that hint (the command would
/// otherwise wait for typing nobody meant to do).
pub fn stdin(what: &str, refuse_terminal: Option<&str>) -> Result<String, CliError> {
    let mut stdin = std::io::stdin();
    if let Some(hint) = refuse_terminal
        && stdin.is_terminal()
    {
        return Err(CliError::user(format!("no {what} given")).hint(hint));
    }
    let mut text = String::new();
    stdin
        .read_to_string(&mut text)
        .map_err(|e| CliError::user(format!("cannot read the {what} from stdin: {e}")))?;
    Ok(text)
}

/// `text` when given, else stdin (refused when it is a terminal).
pub fn text_or_stdin(text: Option<String>, what: &str) -> Result<String, CliError> {
    match text {
        Some(text) => Ok(text),
        None => stdin(
            what,
            Some("pass the text as an argument or pipe it on stdin"),
        ),
    }
}

/// A text read from a named file or stdin.
pub struct Named {
    /// What errors call it: the path, or `stdin`.
    pub name: String,
    /// The file's name without its extension (`stdin` for stdin): a default session id.
    pub stem: String,
    /// Its content.
    pub text: String,
}

/// Reads `file`, or stdin when it is `-`, as the command's `what`. `hint` says what to give
/// instead when the file cannot be read or stdin is a terminal.
pub fn file_or_stdin(file: &str, what: &str, hint: &str) -> Result<Named, CliError> {
    if file == "-" {
        return Ok(Named {
            name: "stdin".to_owned(),
            stem: "stdin".to_owned(),
            text: stdin(what, Some(hint))?,
        });
    }
    let path = Path::new(file);
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::user(format!("cannot read {}: {e}", path.display())).hint(hint))?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "transcript".to_owned());
    Ok(Named {
        name: file.to_owned(),
        stem,
        text,
    })
}
