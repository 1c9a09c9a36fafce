//! Errors of reading a configuration file, worded as the reference words them.

/// Why a configuration file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfError {
    /// The tokenizer stopped.
    #[error("Parse error on line {line}: '{message}'")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// The file ended right after a key.
    #[error("config is invalid ({file}:{line}:{pos})")]
    Invalid {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// Position in the line.
        pos: isize,
    },
    /// An integer that does not fit in 64 bits.
    #[error("integer '{0}' is out of the range")]
    IntegerRange(String),
    /// An integer that does not parse.
    #[error("expected integer, but got '{0}'")]
    Integer(String),
    /// A float that does not fit.
    #[error("float '{0}' is out of the range")]
    FloatRange(String),
    /// A float that does not parse.
    #[error("expected float, but got '{0}'")]
    Float(String),
    /// A datetime that is not a valid Zulu time.
    #[error("expected Zulu formatted DateTime, but got '{0}'")]
    Datetime(String),
    /// `$name` is neither defined nor in the environment.
    #[error("variable reference for '{name}' on line {line} can not be found")]
    VariableNotFound {
        /// The variable.
        name: String,
        /// 1-based line of the reference.
        line: usize,
    },
    /// The environment value of `$name` does not parse.
    #[error("variable reference for '{name}' on line {line} could not be parsed: {source}")]
    VariableParse {
        /// The variable.
        name: String,
        /// 1-based line of the reference.
        line: usize,
        /// Why.
        source: Box<ConfError>,
    },
    /// Environment variables referring to each other in a cycle.
    #[error("variable reference cycle for '{0}'")]
    VariableCycle(String),
    /// An included file failed.
    #[error("error parsing include file '{path}', {source}")]
    Include {
        /// The path as written after `include`.
        path: String,
        /// Why.
        source: Box<ConfError>,
    },
    /// A file could not be read (the text comes from the reader, e.g. `open x: no such file or directory`).
    #[error("{0}")]
    Read(String),
    /// Includes nested deeper than [`super::MAX_INCLUDE_DEPTH`].
    #[error("includes nested too deeply (more than {0} levels)")]
    IncludeDepth(usize),
    /// Variable expansion produced more than [`super::MAX_NODES`] values.
    #[error("configuration too large (more than {0} values)")]
    TooLarge(usize),
    /// Items in an order the format does not allow.
    #[error("config is invalid: {0}")]
    Structure(&'static str),
}
