//! Stage 4, **write**: the TEI P5 document.
//!
//! Owns assembling the edition from the layout, the structure and the inline items: the
//! `teiHeader` (TEI Guidelines 2: `titleStmt` with author, funder and `respStmt`s,
//! `publicationStmt`, `notesStmt`, `sourceDesc` with the citation as `bibl` and
//! `msDesc/msIdentifier`, `encodingDesc` with `appInfo` and `editorialDecl`, `profileDesc` with
//! `abstract`, `creation`, `langUsage` and `correspDesc`, `revisionDesc`), the `text` (4.2:
//! `opener`, `p`, `list`, nested `div`s, `closer`, `postscript`; 3.12 notes placed at their
//! anchors) and a `standOff` with exactly the register entries referred to (16.10).
//! It must not read files or decide structure; it encodes what earlier stages found.

use std::collections::{BTreeMap, BTreeSet};

use super::Options;
use super::dates::DateValue;
use super::header;
use super::inline::{self, Inline, InlineFindings};
use super::layout::{FieldKind, Layout};
use super::structure::{Block, FrameItem, Para, Part, Structure};
use crate::diag::{Diagnostic, Report};
use crate::register::{EntityKind, Register};
use crate::tei::{Document, Element, TEI_NS, xml_model_rng, xml_model_sch};

/// The written document and what was learnt on the way.
pub struct Written {
    pub document: Document,
    pub report: Report,
    pub referenced: BTreeSet<String>,
    /// Names not in the register: name → (count, first source line).
    pub unknown_names: BTreeMap<String, (usize, usize)>,
    pub stats: BTreeMap<&'static str, usize>,
}

struct Ctx<'a> {
    register: &'a Register,
    year: Option<i32>,
    footnotes: BTreeMap<String, (String, usize)>,
    footnote_ids: BTreeSet<String>,
    anchored: BTreeSet<String>,
    used: BTreeSet<String>,
    findings: InlineFindings,
    unknown: BTreeMap<String, (usize, usize)>,
    /// The source line of the paragraph being written.
    line: usize,
    /// Editorial and gloss notes so far, numbered `e1`, `e2`, ... and `g1`, `g2`, ...
    editorial_notes: usize,
    gloss_notes: usize,
    /// Warnings found while writing: (code, message, source line).
    problems: Vec<(&'static str, String, usize)>,
    stats: BTreeMap<&'static str, usize>,
    /// Dates found in datelines, to compare with the document date.
    dateline_dates: Vec<(String, usize)>,
    /// The first registered place of a dateline: where the letter was sent from.
    dateline_place: Option<(String, String)>,
}

impl Ctx<'_> {
    fn items(&mut self, text: &str) -> Vec<Inline> {
        let raw = inline::parse_brackets(
            text,
            &self.footnote_ids,
            &mut self.anchored,
            &mut self.findings,
        );
        let marked = inline::mark(
            raw,
            self.register,
            self.year,
            &mut self.used,
            &mut self.findings,
        );
        // Findings of the inline stage, located at the paragraph's source line.
        let line = self.line;
        for m in self.findings.markers_without_note.drain(..) {
            self.problems.push((
                "convert/marker-without-note",
                format!("the marker [{m}] has no footnote [{m}]; it is kept as text"),
                line,
            ));
        }
        for p in self.findings.date_problems.drain(..) {
            self.problems
                .push(("convert/invalid-date", format!("{p}; left unmarked"), line));
        }
        let mut found = BTreeMap::new();
        inline::unknown_names(&marked, self.register, &mut found);
        for (name, count) in found {
            let slot = self.unknown.entry(name).or_insert((0, self.line));
            slot.0 += count;
        }
        marked
    }

    fn para_items(&mut self, para: &Para) -> Vec<Inline> {
        self.line = para.line;
        let mut out = Vec::new();
        for part in &para.parts {
            match part {
                Part::Text(t) => out.extend(self.items(t)),
                // The source's line break stays as a space, so words do not run together.
                Part::Break => {
                    out.push(Inline::Text(" ".to_string()));
                    out.push(Inline::Break);
                }
            }
        }
        out
    }

    /// Fills `parent` with the TEI for a paragraph's text.
    fn fill(&mut self, parent: &mut Element, para: &Para) {
        let items = self.para_items(para);
        self.render(parent, &items);
    }

    fn bump(&mut self, key: &'static str) {
        *self.stats.entry(key).or_insert(0) += 1;
    }

    fn render(&mut self, parent: &mut Element, items: &[Inline]) {
        for item in items {
            match item {
                Inline::Text(t) => parent.push_text(t.clone()),
                Inline::Supplied { children, in_word } => {
                    let reason = if *in_word {
                        "incomplete"
                    } else {
                        "clarification"
                    };
                    let mut el = Element::new("supplied").attr("reason", reason);
                    self.render(&mut el, children);
                    parent.push(el);
                }
                Inline::Gap { reason, desc } => {
                    let mut el = Element::new("gap").attr("reason", reason.clone());
                    if let Some(d) = desc {
                        el.push(Element::new("desc").text(d.clone()));
                    }
                    parent.push(el);
                }
                Inline::Sic(w) => parent.push(Element::new("sic").text(w.clone())),
                Inline::Editorial(t) => {
                    self.editorial_notes += 1;
                    parent.push(
                        Element::new("note")
                            .attr("type", "editorial")
                            .attr("n", format!("e{}", self.editorial_notes))
                            .text(t.clone()),
                    )
                }
                Inline::Gloss(children) => {
                    self.gloss_notes += 1;
                    let mut el = Element::new("note")
                        .attr("type", "gloss")
                        .attr("n", format!("g{}", self.gloss_notes));
                    self.render(&mut el, children);
                    parent.push(el);
                }
                Inline::Unclear(t) => {
                    let mut el = Element::new("unclear").attr("cert", "low");
                    el.push_text(t.clone());
                    parent.push(el);
                }
                Inline::NoteAnchor(n) => {
                    let note = self.footnote(n);
                    parent.push(note);
                }
                Inline::NoteRef(n) => parent.push(
                    Element::new("ptr")
                        .attr("type", "noteAnchor")
                        .attr("target", format!("#note-{n}")),
                ),
                Inline::Break => parent.push(
                    Element::new("milestone")
                        .attr("unit", "paragraph")
                        .attr("type", "sourceBreak"),
                ),
                Inline::Name { kind, id, text } => {
                    self.bump(match kind {
                        EntityKind::Person => "person mentions",
                        EntityKind::Place => "place mentions",
                        EntityKind::Org => "organisation mentions",
                    });
                    parent.push(
                        Element::new(kind.name_element())
                            .attr("ref", format!("#{id}"))
                            .text(text.clone()),
                    );
                }
                Inline::Date {
                    value,
                    inferred,
                    text,
                } => {
                    self.bump("dates");
                    parent.push(date_element(value, *inferred, text));
                }
            }
        }
    }

    fn footnote(&mut self, n: &str) -> Element {
        self.bump("notes");
        let (text, line) = self.footnotes.get(n).cloned().unwrap_or_default();
        let outer_line = self.line;
        self.line = line;
        let mut note = Element::new("note")
            .attr("xml:id", format!("note-{n}"))
            .attr("n", n)
            .attr("place", "foot");
        // The marker stood between words ("Patriots[1] with"): a leading space keeps the
        // note's first word apart from the word it is anchored to in the string value.
        note.push_text(" ");
        let items = self.items(&text);
        self.render(&mut note, &items);
        self.line = outer_line;
        note
    }
}

fn date_element(value: &DateValue, inferred: bool, text: &str) -> Element {
    let mut el = Element::new("date");
    match value {
        DateValue::When(w) => el.set_attr("when", w.clone()),
        DateValue::Range { from, to } => {
            el.set_attr("from", from.clone());
            el.set_attr("to", to.clone());
        }
        DateValue::Between {
            not_before,
            not_after,
        } => {
            el.set_attr("notBefore", not_before.clone());
            el.set_attr("notAfter", not_after.clone());
        }
    }
    if inferred {
        el.set_attr("evidence", "internal");
        el.set_attr("resp", "#teikit");
    }
    el.text(text)
}

/// Builds the edition.
pub fn write(
    layout: &Layout,
    structure: &Structure,
    register: &Register,
    options: &Options,
) -> Written {
    let mut report = Report::new();
    let line_span = |no: usize| layout.body.iter().find(|l| l.no == no).map(|l| l.span);
    let located = |d: Diagnostic, no: usize| match line_span(no) {
        Some(span) => d.with_span(span),
        None => d,
    };
    let footnotes: BTreeMap<String, (String, usize)> = structure
        .footnotes
        .iter()
        .map(|f| (f.n.clone(), (f.text.clone(), f.line)))
        .collect();
    let mut ctx = Ctx {
        register,
        year: layout.year(),
        footnote_ids: footnotes.keys().cloned().collect(),
        footnotes,
        anchored: BTreeSet::new(),
        used: BTreeSet::new(),
        findings: InlineFindings::default(),
        unknown: BTreeMap::new(),
        line: 0,
        problems: Vec::new(),
        editorial_notes: 0,
        gloss_notes: 0,
        stats: BTreeMap::new(),
        dateline_dates: Vec::new(),
        dateline_place: None,
    };
    for f in &structure.footnotes {
        if structure.footnotes.iter().filter(|g| g.n == f.n).count() > 1 {
            report.push(located(
                Diagnostic::warning(
                    "convert/duplicate-footnote",
                    format!("footnote [{}] is given more than once; the first is placed at its marker, the others are kept in the back matter", f.n),
                ),
                f.line,
            ));
        }
    }

    let kind = layout
        .title
        .as_ref()
        .and_then(|t| header::document_kind(&t.text))
        .unwrap_or_else(|| "document".to_string());
    let text_el = build_text(&mut ctx, structure, &kind, layout, &mut report);
    let header_el = build_header(&mut ctx, layout, options, &mut report);

    for (code, message, line) in &ctx.problems {
        report.push(located(Diagnostic::warning(code, message.clone()), *line));
    }
    if let Some(doc_date) = &layout.date {
        for (d, line) in &ctx.dateline_dates {
            if d != doc_date {
                report.push(located(
                    Diagnostic::warning(
                        "convert/date-disagreement",
                        format!(
                            "the dateline's date {d} differs from the document date {doc_date}"
                        ),
                    ),
                    *line,
                ));
            }
        }
    }
    for (n, (_, line)) in &ctx.footnotes {
        if ctx.anchored.contains(n) {
            continue;
        }
        report.push(located(
            Diagnostic::warning(
                "convert/orphan-footnote",
                format!("footnote [{n}] has no marker in the text; it is kept as a note in the back matter"),
            ),
            *line,
        ));
    }

    let mut tei = Element::new("TEI")
        .attr("xmlns", TEI_NS)
        .attr("xml:lang", "en");
    tei.push(header_el);
    tei.push(text_el);
    let lists = register.lists_for(&ctx.used);
    if !lists.is_empty() {
        let mut standoff = Element::new("standOff");
        for l in lists {
            standoff.push(l);
        }
        tei.push(standoff);
    }
    let mut stats = ctx.stats;
    stats.insert("register entries", ctx.used.len());
    stats.insert("repaired breaks", structure.repaired_breaks.len());
    Written {
        document: Document {
            pis: std::iter::once(xml_model_rng(&options.schema_href))
                .chain(options.schematron_href.as_deref().map(xml_model_sch))
                .collect(),
            root: tei,
        },
        report,
        referenced: ctx.used,
        unknown_names: ctx.unknown,
        stats,
    }
}

fn build_text(
    ctx: &mut Ctx,
    s: &Structure,
    kind: &str,
    layout: &Layout,
    report: &mut Report,
) -> Element {
    let mut div = Element::new("div").attr("type", kind);
    if !s.opener.is_empty() {
        let mut opener = Element::new("opener");
        frame(ctx, &mut opener, &s.opener);
        div.push(opener);
    }
    let mut flow = build_flow(ctx, &s.blocks);
    if flow.is_empty() {
        flow.push(Element::new("p"));
    }
    for el in flow {
        div.push(el);
    }
    if !s.closer.is_empty() {
        let mut closer = Element::new("closer");
        frame(ctx, &mut closer, &s.closer);
        div.push(closer);
    }
    if !s.postscript.is_empty() {
        let mut ps = Element::new("postscript");
        for para in &s.postscript {
            let mut p = Element::new("p");
            ctx.fill(&mut p, para);
            ctx.bump("paragraphs");
            ps.push(p);
        }
        div.push(ps);
    }
    let mut text = Element::new("text");
    if let Some(lang) = text_language(layout) {
        text.set_attr("xml:lang", lang);
    }
    text.push(Element::new("body").child(div));
    // Footnotes without a marker, and repeated footnote numbers, go to the back matter.
    let orphans: Vec<String> = ctx
        .footnotes
        .keys()
        .filter(|n| !ctx.anchored.contains(*n))
        .cloned()
        .collect();
    let mut back_notes = Vec::new();
    for n in orphans {
        let note = ctx.footnote(&n);
        back_notes.push(note);
    }
    let mut seen = BTreeSet::new();
    for f in &s.footnotes {
        if !seen.insert(f.n.clone()) {
            let mut note = Element::new("note")
                .attr("n", f.n.clone())
                .attr("place", "foot");
            let items = ctx.items(&f.text);
            ctx.render(&mut note, &items);
            back_notes.push(note);
        }
    }
    if !back_notes.is_empty() {
        let mut notes_div = Element::new("div").attr("type", "notes");
        for n in back_notes {
            notes_div.push(n);
        }
        text.push(Element::new("back").child(notes_div));
    }
    let _ = report;
    text
}

fn text_language(layout: &Layout) -> Option<&'static str> {
    let from_contents = layout
        .field(&FieldKind::Contents)
        .and_then(|f| contents_language(&f.text()));
    from_contents.or_else(|| {
        // Without a "Translation - X" statement, the text is in its original language, unless
        // a header field says it was translated (into a language it does not name).
        let translated = layout
            .fields
            .iter()
            .any(|f| f.text().to_lowercase().contains("translat"));
        if translated {
            return None;
        }
        let f = layout.field(&FieldKind::OriginalLanguage)?;
        header::language_tag(&f.text())
    })
}

/// "Translation - English" → "en".
fn contents_language(contents: &str) -> Option<&'static str> {
    contents
        .split(['-', '–', ':', ','])
        .filter_map(|p| header::language_tag(p))
        .next()
}

fn frame(ctx: &mut Ctx, parent: &mut Element, items: &[FrameItem]) {
    let mut k = 0;
    while let Some(item) = items.get(k) {
        // Items were separate lines: a space keeps their words apart in the string value.
        if k > 0 {
            parent.push_text(" ");
        }
        match item {
            FrameItem::Salute(p) => {
                let mut el = Element::new("salute");
                ctx.fill(&mut el, p);
                parent.push(el);
            }
            FrameItem::Dateline(p) => {
                let mut el = Element::new("dateline");
                let items = ctx.para_items(p);
                for i in &items {
                    if let Inline::Name {
                        kind: EntityKind::Place,
                        id,
                        text,
                    } = i
                        && ctx.dateline_place.is_none()
                    {
                        ctx.dateline_place = Some((id.clone(), text.clone()));
                    }
                    if let Inline::Date {
                        value: DateValue::When(w),
                        inferred: false,
                        ..
                    } = i
                    {
                        ctx.dateline_dates.push((w.clone(), p.line));
                    }
                }
                ctx.render(&mut el, &items);
                parent.push(el);
            }
            FrameItem::Byline(p) => {
                let mut el = Element::new("byline");
                ctx.fill(&mut el, p);
                parent.push(el);
            }
            FrameItem::Signed(p) => {
                let mut el = Element::new("signed");
                ctx.fill(&mut el, p);
                parent.push(el);
            }
            FrameItem::Role(p) => {
                // Consecutive role lines form one role, lines separated by `lb`.
                let mut el = Element::new("roleName");
                ctx.fill(&mut el, p);
                while let Some(FrameItem::Role(next)) = items.get(k + 1) {
                    el.push_text(" ");
                    el.push(Element::new("lb"));
                    ctx.fill(&mut el, next);
                    k += 1;
                }
                parent.push(el);
            }
            FrameItem::Line(p) => {
                let mut el = Element::new("seg");
                ctx.fill(&mut el, p);
                parent.push(el);
            }
        }
        k += 1;
    }
}

fn build_flow(ctx: &mut Ctx, blocks: &[Block]) -> Vec<Element> {
    let mut top: Vec<Element> = Vec::new();
    let mut stack: Vec<(usize, Element)> = Vec::new();
    fn close_to(level: usize, stack: &mut Vec<(usize, Element)>, top: &mut Vec<Element>) {
        while stack.last().is_some_and(|(l, _)| *l >= level) {
            if let Some((_, div)) = stack.pop() {
                match stack.last_mut() {
                    Some((_, parent)) => parent.push(div),
                    None => top.push(div),
                }
            }
        }
    }
    for block in blocks {
        let el = match block {
            Block::Head(level, para) => {
                close_to(*level, &mut stack, &mut top);
                let mut head = Element::new("head");
                ctx.fill(&mut head, para);
                let mut div = Element::new("div");
                if let Some(n) = &para.n {
                    div.set_attr("n", n.clone());
                }
                div.push(head);
                stack.push((*level, div));
                continue;
            }
            Block::P(para) => {
                let mut p = Element::new("p");
                if let Some(n) = &para.n {
                    p.set_attr("n", n.clone());
                }
                ctx.fill(&mut p, para);
                ctx.bump("paragraphs");
                p
            }
            Block::List(items) => {
                let mut list = Element::new("list");
                for para in items {
                    let mut item = Element::new("item");
                    if let Some(n) = &para.n {
                        item.set_attr("n", n.clone());
                    }
                    ctx.fill(&mut item, para);
                    list.push(item);
                }
                list
            }
        };
        match stack.last_mut() {
            Some((_, div)) => div.push(el),
            None => top.push(el),
        }
    }
    close_to(0, &mut stack, &mut top);
    top
}

fn slug(label: &str) -> String {
    let mut s = String::new();
    for c in label.chars() {
        if c.is_alphanumeric() {
            s.extend(c.to_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    s.trim_end_matches('-').to_string()
}

/// A correspondent or responsible party as a name element, linked when the register knows it.
fn party_element(ctx: &mut Ctx, p: &header::Party) -> Element {
    match &p.entry {
        Some((kind, id)) => {
            ctx.used.insert(id.clone());
            Element::new(kind.name_element())
                .attr("ref", format!("#{id}"))
                .text(p.text.clone())
        }
        None => Element::new("name").text(p.text.clone()),
    }
}

fn register_party(ctx: &Ctx, text: &str) -> header::Party {
    let entry = ctx
        .register
        .find_mentions(text)
        .into_iter()
        .find(|m| m.start == 0 && m.end == text.len())
        .and_then(|m| ctx.register.entry(m.entry))
        .map(|e| (e.kind, e.id.clone()));
    header::Party {
        text: text.to_string(),
        entry,
    }
}

/// Text runs of a citation's tail into mixed content, URLs as `ref`s.
fn push_runs(el: &mut Element, runs: &[(String, bool)]) {
    for (t, is_url) in runs {
        if *is_url {
            el.push(
                Element::new("ref")
                    .attr("target", t.clone())
                    .text(t.clone()),
            );
        } else {
            el.push_text(t.clone());
        }
    }
}

/// A source field as mixed content: every character kept, URLs after its first sentence as
/// `ref`s (the split `parse_citation` makes).
fn push_with_urls(el: &mut Element, text: &str) {
    let c = header::parse_citation(text);
    el.push_text(c.lead);
    if let Some(t) = c.title {
        el.push_text(t);
    }
    el.push_text(c.middle);
    if let Some(a) = c.address {
        el.push_text(a);
    }
    push_runs(el, &c.rest);
}

fn build_header(ctx: &mut Ctx, layout: &Layout, options: &Options, report: &mut Report) -> Element {
    let title_text = match &layout.title {
        Some(t) => t.text.clone(),
        None => {
            report.push(Diagnostic::warning(
                "convert/untitled",
                "the document has no title; the edition is titled \"Untitled document\"",
            ));
            "Untitled document".to_string()
        }
    };
    let citation = layout.field(&FieldKind::Citation);
    let source = layout.field(&FieldKind::Source);
    let credits = layout.field(&FieldKind::Credits);
    let corresp = layout
        .title
        .as_ref()
        .and_then(|t| header::correspondence(&t.text, ctx.register));

    // titleStmt
    let mut title_stmt = Element::new("titleStmt")
        .child(Element::new("title").attr("type", "main").text(title_text));
    if let Some(c) = &corresp {
        for p in &c.senders {
            let name = party_element(ctx, p);
            title_stmt.push(Element::new("author").child(name));
        }
    }
    if let Some(f) = credits.and_then(|f| header::find_funder(&f.text())) {
        let party = register_party(ctx, &f);
        let mut funder = Element::new("funder");
        if let Some((_, id)) = &party.entry {
            ctx.used.insert(id.clone());
            funder.set_attr("ref", format!("#{id}"));
        }
        title_stmt.push(funder.text(f));
    }
    let resp_source = citation.or(source);
    if let Some((what, who)) = resp_source.and_then(|f| header::find_translator(&f.text())) {
        let party = register_party(ctx, &who);
        let name = match &party.entry {
            Some((EntityKind::Person, id)) => {
                ctx.used.insert(id.clone());
                Element::new("persName")
                    .attr("ref", format!("#{id}"))
                    .text(who)
            }
            _ => Element::new("persName").text(who),
        };
        title_stmt.push(
            Element::new("respStmt")
                .child(Element::new("resp").text(what))
                .child(name),
        );
    }
    title_stmt.push(
        Element::new("respStmt")
            .child(Element::new("resp").text("TEI encoding generated by"))
            .child(Element::new("name").attr("ref", "#teikit").text("teikit")),
    );

    let publication = Element::new("publicationStmt").child(Element::new("p").text(
        "Edition generated by teikit from the plain-text export of the source; see the source description for the archive's publication.",
    ));

    // notesStmt: credits and any other header fields, verbatim.
    let mut notes = Element::new("notesStmt");
    for f in &layout.fields {
        let ty = match f.kind {
            FieldKind::Credits => "credits".to_string(),
            FieldKind::Other => slug(&f.label),
            FieldKind::Contents if contents_language(&f.text()).is_none() => "contents".to_string(),
            _ => continue,
        };
        let mut note = Element::new("note").attr(
            "type",
            if ty.is_empty() {
                "field".to_string()
            } else {
                ty
            },
        );
        if f.kind == FieldKind::Other {
            note.push(Element::new("label").text(f.label.clone()));
            note.push_text(" ");
        }
        note.push_text(f.text());
        notes.push(note);
    }

    // sourceDesc
    let mut source_desc = Element::new("sourceDesc");
    let mut shelf_from = None;
    if let Some(f) = citation {
        let text = f.text();
        let c = header::parse_citation(&text);
        let mut bibl = Element::new("bibl").attr("type", "citation");
        bibl.push_text(c.lead.clone());
        if let Some(t) = &c.title {
            bibl.push(Element::new("title").attr("level", "a").text(t.clone()));
        }
        // The date in the middle part, marked.
        let (found, _) = super::dates::find_dates(&c.middle, None);
        let mut pos = 0;
        for m in found.into_iter().filter(|m| !m.year_inferred) {
            if let (Some(before), Some(surface)) =
                (c.middle.get(pos..m.start), c.middle.get(m.start..m.end))
            {
                bibl.push_text(before);
                bibl.push(date_element(&m.value, false, surface));
                pos = m.end;
            }
        }
        bibl.push_text(c.middle.get(pos..).unwrap_or(""));
        if let Some(a) = &c.address {
            bibl.push_text(a.clone());
            shelf_from = Some(a.clone());
        }
        push_runs(&mut bibl, &c.rest);
        source_desc.push(bibl);
    }
    if let Some(f) = source {
        let text = f.text();
        let mut bibl = Element::new("bibl").attr("type", "source");
        push_with_urls(&mut bibl, &text);
        if shelf_from.is_none() {
            let end = header::first_sentence_end(&text);
            shelf_from = text.get(..end).map(str::to_string);
        }
        source_desc.push(bibl);
    }
    if let Some(addr) = shelf_from {
        let shelf = header::parse_shelf(&addr);
        if shelf.repository.is_some() || shelf.shelfmark.is_some() {
            let mut ms_id = Element::new("msIdentifier");
            if let Some(r) = shelf.repository {
                ms_id.push(Element::new("repository").text(r));
            }
            for c in shelf.collections {
                ms_id.push(Element::new("collection").text(c));
            }
            if let Some(s) = shelf.shelfmark {
                ms_id.push(Element::new("idno").attr("type", "shelfmark").text(s));
            }
            source_desc.push(Element::new("msDesc").child(ms_id));
        }
    }
    if source_desc.children.is_empty() {
        source_desc.push(
            Element::new("p")
                .text("Converted from a plain-text document that gives no citation or source."),
        );
    }

    let mut file_desc = Element::new("fileDesc")
        .child(title_stmt)
        .child(publication);
    if !notes.children.is_empty() {
        file_desc.push(notes);
    }
    file_desc.push(source_desc);

    let encoding = Element::new("encodingDesc")
        .child(
            Element::new("appInfo").child(
                Element::new("application")
                    .attr("xml:id", "teikit")
                    .attr("ident", "teikit")
                    .attr("version", options.version.clone())
                    .child(Element::new("label").text("teikit")),
            ),
        )
        .child(editorial_decl());
    let mut encoding = encoding;
    if !layout.fields.is_empty() {
        encoding.push(Element::new("p").text(field_map(layout)));
    }

    // profileDesc
    let mut profile = Element::new("profileDesc");
    if let Some(f) = layout.field(&FieldKind::Summary) {
        let mut abs = Element::new("abstract");
        for p in &f.paragraphs {
            abs.push(Element::new("p").text(p.clone()));
        }
        profile.push(abs);
    }
    if let (Some(line), Some(date)) = (&layout.date_line, &layout.date) {
        profile.push(
            Element::new("creation").child(
                Element::new("date")
                    .attr("when", date.clone())
                    .text(line.text.trim().to_string()),
            ),
        );
    }
    let mut lang_usage = Element::new("langUsage");
    if let Some(f) = layout.field(&FieldKind::OriginalLanguage) {
        let text = f.text();
        let tag = text
            .split([',', ';', '/'])
            .filter_map(header::language_tag)
            .next()
            .unwrap_or("und");
        lang_usage.push(
            Element::new("language")
                .attr("ident", tag)
                .attr("n", "original")
                .text(text),
        );
    }
    if let Some(f) = layout.field(&FieldKind::Contents) {
        let text = f.text();
        if let Some(tag) = contents_language(&text) {
            lang_usage.push(
                Element::new("language")
                    .attr("ident", tag)
                    .attr("n", "translation")
                    .text(text),
            );
        }
    }
    if !lang_usage.children.is_empty() {
        profile.push(lang_usage);
    }
    if let Some(c) = &corresp {
        let mut sent = Element::new("correspAction").attr("type", "sent");
        for p in &c.senders {
            let el = party_element(ctx, p);
            sent.push(el);
        }
        if let Some((id, text)) = ctx.dateline_place.clone() {
            ctx.used.insert(id.clone());
            sent.push(
                Element::new("placeName")
                    .attr("ref", format!("#{id}"))
                    .text(text),
            );
        }
        if let Some(date) = &layout.date {
            sent.push(Element::new("date").attr("when", date.clone()));
        }
        let mut received = Element::new("correspAction").attr("type", "received");
        for p in &c.addressees {
            let el = party_element(ctx, p);
            received.push(el);
        }
        let mut desc = Element::new("correspDesc").child(sent);
        if !received.children.is_empty() {
            desc.push(received);
        }
        profile.push(desc);
    }

    let revision = Element::new("revisionDesc").child(
        Element::new("change")
            .attr("when", options.date.clone())
            .attr("who", "#teikit")
            .text(format!(
                "Converted from the plain-text export to TEI P5 by teikit {}.",
                options.version
            )),
    );

    let mut h = Element::new("teiHeader").child(file_desc).child(encoding);
    if !profile.children.is_empty() {
        h.push(profile);
    }
    h.push(revision);
    h
}

/// A sentence saying where each labelled header field of the source went.
fn field_map(layout: &Layout) -> String {
    let mut parts = Vec::new();
    for f in &layout.fields {
        let target = match f.kind {
            FieldKind::Citation => "the bibl of type \"citation\" in sourceDesc, with msIdentifier",
            FieldKind::Summary => "abstract",
            FieldKind::Credits => "the note of type \"credits\" in notesStmt, with funder",
            FieldKind::OriginalLanguage => "the language marked \"original\" in langUsage",
            FieldKind::Contents if contents_language(&f.text()).is_some() => {
                "the language marked \"translation\" in langUsage"
            }
            FieldKind::Contents => "the note of type \"contents\" in notesStmt",
            FieldKind::Source => "the bibl of type \"source\" in sourceDesc, with msIdentifier",
            FieldKind::Other => "a note in notesStmt",
        };
        parts.push(format!("\u{201c}{}:\u{201d} as {target}", f.label));
    }
    format!(
        "The source's labelled header fields are encoded as follows: {}.",
        parts.join("; ")
    )
}

fn editorial_decl() -> Element {
    let p = |text: &str| Element::new("p").text(text);
    Element::new("editorialDecl")
        .child(Element::new("correction").child(p(
            "Square brackets in the source are the translator's or editor's voice. Words added to a sentence are encoded as supplied (reason \"clarification\"); letters completing a word as supplied inside the word (reason \"incomplete\"); [illegible] and similar as gap with reason \"illegible\", the bracket's words kept in desc; [...] and […] as gap with reason \"omitted\"; [sic] as sic on the preceding word, followed by an editorial note keeping the word \"sic\"; a bracketed name after a name as a note of type \"gloss\"; a reading followed by a question mark as unclear with cert \"low\"; remarks such as [handwritten] or [signature] as notes of type \"editorial\". Footnotes keep their number in @n; editorial notes are numbered e1, e2, ... and glosses g1, g2, ... in @n.",
        )))
        .child(Element::new("normalization").child(p(
            "Runs of white space within a line are collapsed to one space. Dates are normalised to ISO 8601 in @when, @from/@to or @notBefore/@notAfter; a day and month given without a year take the year of the document's date, marked with @evidence=\"internal\" and @resp pointing to teikit.",
        )))
        .child(Element::new("segmentation").child(p(
            "Each line of the source's body is a paragraph, list item, heading or part of the opener or closer. A paragraph broken across a blank line in the source (the first part ending without closing punctuation, the second starting in lower case) is repaired into one paragraph; the break is recorded as an empty milestone of unit \"paragraph\" and type \"sourceBreak\". Footnotes are placed at their markers; a footnote without a marker is kept in the back matter.",
        )))
        .child(Element::new("interpretation").child(p(
            "Persons, places and organisations are marked where the text uses a name form listed in the register (case-sensitive, longest form first, never nested) and linked to the register entry with @ref; the entries referred to are copied into standOff. Adjectives such as \"Soviet\" are not marked.",
        )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Original Archive"), "original-archive");
        assert_eq!(
            slug("Associated People & Organizations"),
            "associated-people-organizations"
        );
    }

    #[test]
    fn contents_languages() {
        assert_eq!(contents_language("Translation - English"), Some("en"));
        assert_eq!(contents_language("Original Scan"), None);
    }
}
