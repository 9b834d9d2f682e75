"""Render the generated parts of docs/supported.md from the code, so the page cannot drift.

Takes nothing but the installed (or ``src/``) ``adjoint`` package; reads

* the rule registry (:mod:`adjoint.rules.registry`): every primal object with a rule, grouped by
  namespace (operators, builtins, ``math``, NumPy, adjoint's own helpers), with the rule's
  one-line docstring and the modes it supports; the array methods and attributes routed to a
  rule; and the runtime helpers that have no rule (what generated code calls but cannot yet be
  differentiated again);
* the refused-syntax table of :mod:`adjoint.analysis.syntax`.

Each generated section of the page sits between ``<!-- BEGIN GENERATED: name -->`` and
``<!-- END GENERATED: name -->``; everything outside the markers is hand-written. Usage::

    python tools/gen_supported.py            # rewrite the generated sections in place
    python tools/gen_supported.py --check    # exit 1 (and say so) if the page is out of date

Run it in a fresh process (as the command line does): rules a program registers itself with
``custom_vjp``/``defvjp`` would otherwise appear in the output.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import gast
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "supported.md"
REGENERATE = "python tools/gen_supported.py"

if (ROOT / "src").is_dir():  # a source checkout: document the working tree, not an install
    sys.path.insert(0, str(ROOT / "src"))

# Importing the package registers every rule.
from adjoint import grammar, runtime  # noqa: E402  (after the sys.path line above)
from adjoint.analysis import syntax  # noqa: E402
from adjoint.rules import registry  # noqa: E402

NAMESPACES = (
    ("operators", "Operators",
     "Python's operators, keyed by the `operator` function each stands for."),
    ("builtins", "Builtins", "Python's builtin functions."),
    ("math", "`math`", "Scalar functions of Python's `math` module."),
    ("numpy", "NumPy", ("NumPy functions and ufuncs (also reached as `numpy.X` or through any "
                        "alias: rules are looked up by the function object).")),
    ("helpers", "adjoint's own functions and runtime helpers",
     ("`stop_gradient`, and the helpers generated code calls; their rules are what lets "
      "adjoint differentiate its own output again (`grad(grad(f))`, `hvp`).")),
)


def namespace_of(rule):
    """Which table a rule belongs in."""
    name = rule.name
    if name.startswith("operator."):
        return "operators"
    if name.startswith("math."):
        return "math"
    if name.startswith(("np.", "ndarray.")):
        return "numpy"
    if name.startswith("adjoint."):
        return "helpers"
    if "." not in name:
        return "builtins"
    return "other"  # a user's defvjp on some library function


def _operator_syntax():
    """operator function -> the Python syntax that stands for it (``a + b``, ``-a``, ...)."""
    a, b = ast.Name("a"), ast.Name("b")
    spelled = {}
    for table, build in ((grammar.BINOPS, lambda op: ast.BinOp(a, op, b)),
                         (grammar.UNARYOPS, lambda op: ast.UnaryOp(op, a)),
                         (grammar.CMPOPS, lambda op: ast.Compare(a, [op], [b]))):
        for node_class, function in table.items():
            text = ast.unparse(build(getattr(ast, node_class.__name__)()))
            spelled.setdefault(id(function), []).append(text)
    return spelled


def modes(rule):
    """The transforms a rule supports, as the table shows them."""
    if rule.nondiff:
        return "none: result inactive"
    reverse = rule.vjp is not None or rule.partials is not None or rule.custom is not None
    forward = rule.jvp is not None or rule.partials is not None
    return {(True, True): "reverse, forward", (True, False): "reverse only",
            (False, True): "forward only", (False, False): "none"}[(reverse, forward)]


_NUMBA = {}


def _numba_has(obj):
    """Whether Numba can type a call of ``obj`` at all (under jit, ``np`` is adjoint's
    ``jit_numpy`` proxy, so its reductions count as the proxy's)."""
    if not _NUMBA:
        from numba.core.registry import cpu_target

        from adjoint import jit_numpy, runtime_numba  # noqa: F401  (registers the overloads)
        proxy = jit_numpy.proxy()
        cpu_target.target_context.refresh()
        _NUMBA["typing"] = cpu_target.typing_context
        _NUMBA["typing"].refresh()
        _NUMBA["proxy"] = {id(getattr(np, n)): getattr(proxy, n) for n in jit_numpy.REDUCTIONS}
    obj = _NUMBA["proxy"].get(id(obj), obj)
    try:
        _NUMBA["typing"].resolve_value_type(obj)
    except (ValueError, TypeError, LookupError):
        return False
    return True


def jit_cell(rule):
    """Where the rule's function runs under ``jit=True``: everywhere, or outside loops only
    (Numba lacks the function or a helper its derivative calls)."""
    if rule.nondiff or not callable(rule.primal) or namespace_of(rule) == "operators":
        return "yes"
    method = rule.name.startswith("ndarray.")  # written x.name(...): Numba's array methods
    lacking = [] if method or _numba_has(rule.primal) else [rule.name]
    templates = [t for t in (rule.vjp, rule.jvp, rule.partials) if t]
    helpers = sorted({n.id for t in templates for stmt in t for n in gast.walk(stmt)
                      if isinstance(n, gast.Name) and n.id in runtime.__all__})
    lacking += [h for h in helpers if not _numba_has(getattr(runtime, h))]
    if not lacking:
        return "yes"
    return "outside loops (Numba lacks " + ", ".join(f"`{n}`" for n in lacking) + ")"


def _cell(text):
    return " ".join(str(text).split()).replace("|", "\\|")


def _label(rule, spelled):
    if id(rule.primal) in spelled:
        forms = " ".join(f"`{s}`" for s in spelled[id(rule.primal)])
        return f"{forms} (`{rule.name}`)"
    return f"`{rule.name}`"


def render_ops():
    spelled = _operator_syntax()
    groups = {}
    for rule in registry.all_rules():
        groups.setdefault(namespace_of(rule), []).append(rule)
    other = ("other", "Other", "Rules registered with `adjoint.defvjp`.")
    sections = [s for s in (*NAMESPACES, other) if groups.get(s[0])]
    lines = [f"{len(registry.all_rules())} functions have a rule: "
             + ", ".join(f"{len(groups[key])} in {title}" for key, title, _ in sections) + "."]
    for key, title, blurb in sections:
        lines += ["", f"### {title}", "", blurb, "",
                  "| function | derivative | modes | jit |", "| --- | --- | --- | --- |"]
        for rule in groups[key]:
            lines.append(f"| {_label(rule, spelled)} | {_cell(rule.doc)} | {modes(rule)} | "
                         f"{jit_cell(rule)} |")
    return "\n".join(lines)


def render_methods():
    lines = ["| written | differentiated as |", "| --- | --- |"]
    for name, primal in sorted(registry._METHODS.items()):
        lines.append(f"| `x.{name}(...)` | `{registry.lookup(primal).name}` |")
    for name, primal in sorted(registry._ATTRIBUTES.items()):
        lines.append(f"| `x.{name}` | `{registry.lookup(primal).name}` |")
    return "\n".join(lines)


def render_no_rule_helpers():
    by_source = [name for name in runtime.__all__
                 if registry.is_by_source(getattr(runtime, name))]
    missing = [name for name in runtime.__all__ if name not in by_source
               and registry.lookup(getattr(runtime, name)) is None]
    partial = [(name, modes(rule)) for name in runtime.__all__
               if (rule := registry.lookup(getattr(runtime, name))) is not None
               and modes(rule) in ("reverse only", "forward only")]
    lines = []
    if partial:
        lines.append("Helpers with a rule for one mode only: "
                     + ", ".join(f"`{name}` ({mode})" for name, mode in partial) + ".")
        lines.append("")
    if by_source:
        lines.append("Helpers differentiated through their own source (written with functions "
                     "that have rules, and inlined): "
                     + ", ".join(f"`{name}`" for name in by_source) + ".")
        lines.append("")
    if missing:
        lines.append("Helpers with no rule (" + str(len(missing)) + "): "
                     + ", ".join(f"`{name}`" for name in missing) + ".")
    else:
        lines.append("Every runtime helper has a rule.")
    return "\n".join(lines)


def render_refused():
    lines = ["| construct | what to do instead |", "| --- | --- |"]
    for what, hint in syntax._REFUSED.values():
        lines.append(f"| {_cell(what)} | {_cell(hint)} |")
    return "\n".join(lines)


SECTIONS = {
    "refused": render_refused,
    "ops": render_ops,
    "methods": render_methods,
    "helpers-without-rules": render_no_rule_helpers,
}

_MARKED = re.compile(r"(<!-- BEGIN GENERATED: (?P<name>[\w-]+) .*?-->\n)(?P<body>.*?)"
                     r"(<!-- END GENERATED: (?P=name) -->)", re.DOTALL)


def regenerate(text):
    """``text`` with every generated section replaced by what the code says now."""
    seen = set()

    def fill(match):
        name = match.group("name")
        if name not in SECTIONS:
            raise SystemExit(f"{PAGE}: unknown generated section {name!r}")
        seen.add(name)
        return match.group(1) + SECTIONS[name]() + "\n" + match.group(4)

    out = _MARKED.sub(fill, text)
    missing = set(SECTIONS) - seen
    if missing:
        raise SystemExit(f"{PAGE}: no markers for section(s) {', '.join(sorted(missing))}")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if docs/supported.md is out of date")
    options = parser.parse_args(argv)
    current = PAGE.read_text(encoding="utf-8")
    fresh = regenerate(current)
    if options.check:
        if fresh != current:
            print(f"{PAGE.relative_to(ROOT)} is out of date with the rule registry; "
                  f"regenerate it with: {REGENERATE}")
            return 1
        print(f"{PAGE.relative_to(ROOT)} is up to date")
        return 0
    if fresh != current:
        PAGE.write_text(fresh, encoding="utf-8")
        print(f"rewrote {PAGE.relative_to(ROOT)}")
    else:
        print(f"{PAGE.relative_to(ROOT)} already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
