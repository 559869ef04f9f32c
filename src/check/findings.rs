//! Where the rules of every part of the network file report: one home, so the
//! rule modules (general, resources, proof of stake) share it without importing
//! each other.

use crate::diagnostics::{display_path, Diagnostic};
use crate::yaml::Document;

/// Where the rules put what they find: each problem at a JSON pointer of the
/// file, positioned in the document.
pub(super) struct Findings<'a> {
    doc: &'a Document,
    diags: &'a mut Vec<Diagnostic>,
}

impl<'a> Findings<'a> {
    pub(super) fn new(doc: &'a Document, diags: &'a mut Vec<Diagnostic>) -> Self {
        Self { doc, diags }
    }

    pub(super) fn error(&mut self, pointer: &str, message: String) {
        let at = self.doc.position(pointer);
        self.diags
            .push(Diagnostic::error(at, display_path(pointer), message));
    }

    pub(super) fn warning(&mut self, pointer: &str, message: String) {
        let at = self.doc.position(pointer);
        self.diags
            .push(Diagnostic::warning(at, display_path(pointer), message));
    }
}
