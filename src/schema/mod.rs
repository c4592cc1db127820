//! RELAX NG schema syntax (RELAX NG §3, §4; RELAX NG Compact Syntax).
//!
//! Owns reading and writing schemas; it must not validate instances or touch the filesystem.
pub mod compact;
