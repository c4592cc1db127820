//! teikit: a toolkit for TEI-XML scholarly editions.
//!
//! Layers, each using only those above it (see README "Layout"):
//! `source, diag, calendar` → `xml` → `schema` → `validate, schematron` → `tei, register` →
//! `integrity, convert, export` → `cli`. Only `cli` and explicit `load_*` functions touch the
//! filesystem; every other stage is a pure function from typed input to typed output plus
//! diagnostics. This file only declares the modules.

pub mod calendar;
pub mod diag;
pub mod source;

pub mod xml;

pub mod schema;

pub mod schematron;
pub mod validate;

pub mod register;
pub mod tei;

pub mod convert;
pub mod export;
pub mod integrity;

pub mod cli;
