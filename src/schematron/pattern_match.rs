//! Matching rule contexts: XSLT 2.0 patterns (XSLT 2.0 §5.5.2), as ISO Schematron's XSLT
//! query binding requires for `rule/@context` (ISO/IEC 19757-3, query language binding annexes: the rule context is an XSLT pattern).
//!
//! Owns deciding whether one node matches a compiled pattern, right to left along its steps,
//! without searching the document (a node matches `a/b[1]` if it is a `b`, first among its
//! siblings named `b`, whose parent is an `a`), and the quick "could this rule apply to this
//! kind of node" index keys. It must not evaluate asserts or know about reports.

use super::eval::{Env, EvalError, Evaluator, Focus, Item, NodeRef, ebv};
use super::xpath::{Axis, CompileError, Expr, NodeTest, SetOp, may_be_positional};

/// Which nodes a pattern alternative can match, for indexing rules by node name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Element { ns: Option<String>, local: String },
    AnyElement,
    Attribute,
    Text,
    Any,
}

fn err(message: impl Into<String>) -> Result<(), CompileError> {
    Err(CompileError {
        message: message.into(),
    })
}

/// Rejects at load time the patterns this matcher does not implement (XSLT 2.0 §5.5.2 allows
/// only `child`, `attribute` and `//` steps, plus `id()`/`key()` roots, which we do not need).
pub fn check_pattern(e: &Expr) -> Result<(), CompileError> {
    match e {
        Expr::Set(SetOp::Union, a, b) => {
            check_pattern(a)?;
            check_pattern(b)
        }
        Expr::Sequence(v) if v.len() == 1 => v.iter().try_for_each(check_pattern),
        Expr::Filter(base, preds) => {
            if preds.iter().any(may_be_positional) {
                return err("a positional predicate on a parenthesised pattern is not supported");
            }
            check_pattern(base)
        }
        Expr::Step { axis, .. } => check_axis(*axis),
        Expr::Path { steps, .. } => {
            for s in steps {
                match s {
                    Expr::Step { axis, .. } => check_axis(*axis)?,
                    // XSLT 3.0 §5.5.2: a parenthesised pattern as a step, `(a | b)/c`
                    Expr::Sequence(_) | Expr::Filter(..) => check_pattern(s)?,
                    _ => return err("only steps are supported inside a rule context pattern"),
                }
            }
            Ok(())
        }
        _ => err("this rule context is not an XSLT pattern this checker supports"),
    }
}

fn check_axis(axis: Axis) -> Result<(), CompileError> {
    match axis {
        Axis::Child
        | Axis::Attribute
        | Axis::Descendant
        | Axis::DescendantOrSelf
        | Axis::SelfAxis => Ok(()),
        a => err(format!(
            "axis {}:: is not allowed in a rule context pattern",
            a.name()
        )),
    }
}

/// The kinds of node the pattern can match (one entry per union alternative).
pub fn targets(e: &Expr, out: &mut Vec<Target>) {
    match e {
        Expr::Set(SetOp::Union, a, b) => {
            targets(a, out);
            targets(b, out);
        }
        Expr::Sequence(v) => v.iter().for_each(|x| targets(x, out)),
        Expr::Filter(base, _) => targets(base, out),
        Expr::Step { axis, test, .. } => out.push(step_target(*axis, test)),
        Expr::Path { steps, .. } => match steps.last() {
            Some(Expr::Step { axis, test, .. }) => out.push(step_target(*axis, test)),
            _ => out.push(Target::Any),
        },
        _ => out.push(Target::Any),
    }
}

fn step_target(axis: Axis, test: &NodeTest) -> Target {
    if axis == Axis::Attribute {
        return Target::Attribute;
    }
    match test {
        NodeTest::Name { ns, local } => Target::Element {
            ns: ns.clone(),
            local: local.clone(),
        },
        NodeTest::Any | NodeTest::AnyLocal { .. } | NodeTest::AnyNs { .. } | NodeTest::Element => {
            Target::AnyElement
        }
        NodeTest::Text => Target::Text,
        _ => Target::Any,
    }
}

/// Does node `n` match pattern `e`? Predicates are evaluated with `n` as context (and as
/// `current()`), positions counted among its siblings that pass the same step.
pub fn matches(ev: &Evaluator, n: NodeRef, e: &Expr, env: &mut Env) -> Result<bool, EvalError> {
    match e {
        Expr::Set(SetOp::Union, a, b) => Ok(matches(ev, n, a, env)? || matches(ev, n, b, env)?),
        Expr::Sequence(v) => {
            for x in v {
                if matches(ev, n, x, env)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Expr::Filter(base, preds) => {
            if !matches(ev, n, base, env)? {
                return Ok(false);
            }
            for p in preds {
                if !ebv(&ev.eval(p, &Focus::node(n), env)?)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Expr::Step { .. } => match_steps(ev, n, std::slice::from_ref(e), false, env),
        Expr::Path { rooted, steps } => match_steps(ev, n, steps, *rooted, env),
        _ => Ok(false),
    }
}

fn is_root(ev: &Evaluator, n: NodeRef) -> bool {
    n.attr == 0 && ev.node(n).is_some_and(|x| x.is_root())
}

fn parent(ev: &Evaluator, n: NodeRef) -> Option<NodeRef> {
    if n.attr > 0 {
        return Some(NodeRef {
            node: n.node,
            attr: 0,
        });
    }
    ev.node(n)?.parent().map(NodeRef::of)
}

fn match_steps(
    ev: &Evaluator,
    n: NodeRef,
    steps: &[Expr],
    rooted: bool,
    env: &mut Env,
) -> Result<bool, EvalError> {
    let Some((last, rest)) = steps.split_last() else {
        return Ok(!rooted || is_root(ev, n));
    };
    let Expr::Step { axis, test, preds } = last else {
        // a parenthesised pattern used as a step matches the node itself
        if !matches(ev, n, last, env)? {
            return Ok(false);
        }
        if rest.is_empty() {
            return Ok(!rooted || parent(ev, n).is_some_and(|p| is_root(ev, p)));
        }
        return match parent(ev, n) {
            Some(p) => match_steps(ev, p, rest, rooted, env),
            None => Ok(false),
        };
    };
    match axis {
        Axis::DescendantOrSelf if matches!(test, NodeTest::Node) && preds.is_empty() => {
            // `//`: some ancestor-or-self of n matches what precedes
            if rest.is_empty() {
                return Ok(true);
            }
            let mut cur = Some(n);
            while let Some(c) = cur {
                if match_steps(ev, c, rest, rooted, env)? {
                    return Ok(true);
                }
                cur = parent(ev, c);
            }
            Ok(false)
        }
        _ => {
            // `/x`: check the cheap structural condition before any predicate
            if rooted
                && rest.is_empty()
                && matches!(axis, Axis::Child | Axis::Attribute)
                && !parent(ev, n).is_some_and(|p| is_root(ev, p))
            {
                return Ok(false);
            }
            if !step_matches(ev, n, *axis, test, preds, env)? {
                return Ok(false);
            }
            match axis {
                Axis::SelfAxis => match_steps(ev, n, rest, rooted, env),
                Axis::Descendant | Axis::DescendantOrSelf => {
                    if rest.is_empty() {
                        return Ok(true);
                    }
                    let mut cur = if *axis == Axis::Descendant {
                        parent(ev, n)
                    } else {
                        Some(n)
                    };
                    while let Some(c) = cur {
                        if match_steps(ev, c, rest, rooted, env)? {
                            return Ok(true);
                        }
                        cur = parent(ev, c);
                    }
                    Ok(false)
                }
                _ => match parent(ev, n) {
                    Some(p) => match_steps(ev, p, rest, rooted, env),
                    None => Ok(false),
                },
            }
        }
    }
}

fn step_matches(
    ev: &Evaluator,
    n: NodeRef,
    axis: Axis,
    test: &NodeTest,
    preds: &[Expr],
    env: &mut Env,
) -> Result<bool, EvalError> {
    let attr_axis = axis == Axis::Attribute;
    if attr_axis != n.is_attribute() || !ev.node_passes(n, axis, test) {
        return Ok(false);
    }
    if n.attr == 0 && axis == Axis::Child && ev.node(n).is_some_and(|x| x.is_root()) {
        return Ok(false);
    }
    for (i, p) in preds.iter().enumerate() {
        let focus = if may_be_positional(p) {
            // position among the siblings that pass the test and the earlier predicates; for
            // the first predicate the list depends only on the parent, so it is computed once
            let siblings = if i == 0 {
                cached_siblings(ev, n, axis, test, preds)?
            } else {
                std::rc::Rc::new(sibling_candidates(ev, n, axis, test, &preds[..i], env)?)
            };
            let pos = siblings.binary_search(&n).map_or(0, |x| x + 1);
            Focus {
                item: Some(Item::Node(n)),
                pos,
                size: siblings.len(),
            }
        } else {
            Focus::node(n)
        };
        let v = ev.eval(p, &focus, env)?;
        let keep = match v.as_slice() {
            [Item::Atom(super::eval::Atomic::Int(k))] => *k == focus.pos as i64,
            [Item::Atom(super::eval::Atomic::Dbl(d))] => *d == focus.pos as f64,
            _ => ebv(&v)?,
        };
        if !keep {
            return Ok(false);
        }
    }
    Ok(true)
}

fn cached_siblings(
    ev: &Evaluator,
    n: NodeRef,
    axis: Axis,
    test: &NodeTest,
    preds: &[Expr],
) -> Result<std::rc::Rc<Vec<NodeRef>>, EvalError> {
    let Some(p) = parent(ev, n) else {
        return Ok(std::rc::Rc::new(vec![n]));
    };
    let key = (p, preds.as_ptr() as usize);
    if let Some(v) = ev.siblings.borrow().get(&key) {
        return Ok(v.clone());
    }
    let v = std::rc::Rc::new(sibling_candidates(
        ev,
        n,
        axis,
        test,
        &[],
        &mut Env::default(),
    )?);
    ev.siblings.borrow_mut().insert(key, v.clone());
    Ok(v)
}

fn sibling_candidates(
    ev: &Evaluator,
    n: NodeRef,
    axis: Axis,
    test: &NodeTest,
    earlier: &[Expr],
    env: &mut Env,
) -> Result<Vec<NodeRef>, EvalError> {
    let mut out = Vec::new();
    let Some(p) = parent(ev, n) else {
        return Ok(vec![n]);
    };
    let Some(pn) = ev.node(p) else {
        return Ok(vec![n]);
    };
    let all: Vec<NodeRef> = if axis == Axis::Attribute {
        (0..pn.attributes().len())
            .map(|i| NodeRef {
                node: p.node,
                attr: i as u32 + 1,
            })
            .collect()
    } else {
        pn.children().map(NodeRef::of).collect()
    };
    for s in all {
        if ev.node_passes(s, axis, test) && step_matches(ev, s, axis, test, earlier, env)? {
            out.push(s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::xpath::{StaticContext, memoise_pattern, parse};
    use super::*;

    fn matching(xml: &str, pattern: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(xml).unwrap();
        let mut slots = 0;
        let e = memoise_pattern(parse(pattern, &StaticContext::new()).unwrap(), &mut slots);
        check_pattern(&e).unwrap_or_else(|err| panic!("{pattern}: {err}"));
        let ev = Evaluator::new(&doc, None);
        let mut out = Vec::new();
        for n in doc.descendants() {
            let r = NodeRef::of(n);
            let mut env = Env {
                current: Some(Item::Node(r)),
                ..Env::default()
            };
            if matches(&ev, r, &e, &mut env).unwrap() {
                out.push(format!("{}{}", ev.qname(r), n.attribute("n").unwrap_or("")));
            }
            for i in 0..n.attributes().len() {
                let a = NodeRef {
                    node: r.node,
                    attr: i as u32 + 1,
                };
                if matches(&ev, a, &e, &mut env).unwrap() {
                    out.push(format!("@{}", ev.qname(a)));
                }
            }
        }
        out
    }

    const DOC: &str = "<r><a n='1'><b n='1'/><b n='2'/></a><a n='2'><c><b n='3'/></c></a></r>";

    #[test]
    fn patterns_match_right_to_left() {
        assert_eq!(matching(DOC, "b"), ["b1", "b2", "b3"]);
        assert_eq!(matching(DOC, "a/b"), ["b1", "b2"]);
        assert_eq!(matching(DOC, "a//b"), ["b1", "b2", "b3"]);
        assert_eq!(matching(DOC, "b[1]"), ["b1", "b3"]);
        assert_eq!(matching(DOC, "b[position() gt 1]"), ["b2"]);
        assert_eq!(matching(DOC, "/r"), ["r"]);
        assert_eq!(matching(DOC, "/a"), Vec::<String>::new());
        assert_eq!(matching(DOC, "//c/b | a[@n = 1]"), ["a1", "b3"]);
        assert_eq!(matching(DOC, "(a | c)/b"), ["b1", "b2", "b3"]);
        assert_eq!(matching(DOC, "(a | c)[@n]"), ["a1", "a2"]);
        assert_eq!(matching(DOC, "b/@n"), ["@n", "@n", "@n"]);
    }

    /// Regression: `/*[pred]` was tried on every element, evaluating its predicate (and
    /// counting siblings) before checking that the parent is the document node: quadratic.
    #[test]
    fn rooted_patterns_check_the_parent_before_predicates() {
        // the predicate fails if evaluated (cannot cast 'x'); only the root element may try it
        let doc = roxmltree::Document::parse("<r n='x'><a/></r>").unwrap();
        let ev = Evaluator::new(&doc, None);
        let e = parse("/*[xs:integer(@n) gt 1]", &StaticContext::new()).unwrap();
        let a = NodeRef::of(doc.root_element().first_child().unwrap());
        assert_eq!(matches(&ev, a, &e, &mut Env::default()), Ok(false));
        let r = NodeRef::of(doc.root_element());
        assert!(matches(&ev, r, &e, &mut Env::default()).is_err());
    }
}
