"""Final tree -> commented source -> function.

Takes a generated ``FunctionDef``, the namespace its globals live in, and the user's source
info; returns a Python function whose ``.source`` (set by the caller) is exactly the text that
was compiled. The text is deterministic: the same input gives the same characters. Each run of
statements that came from one user line is preceded by a comment quoting that line, and the
text is registered with ``linecache`` under a unique filename, so tracebacks and ``pdb`` show
the generated code.
"""

from __future__ import annotations

import ast
import itertools
import linecache

from . import grammar as g

_counter = itertools.count()


def emit(fdef, info, sections=()):
    """(source text of ``fdef``, line map). ``sections`` maps id(first stmt) -> a section
    comment; the line map maps each generated line number to the user's (file, line)."""
    lines = []
    params = ast.unparse(g.to_python_ast(fdef.args))
    lines.append(f"def {fdef.name}({params}):")
    state = {"line": None, "map": {}}
    _emit_block(fdef.body, 1, lines, info, state, dict(sections))
    return "\n".join(lines) + "\n", state["map"]


def _source_line(info, stmt):
    origin = getattr(stmt, "adjoint_origin", None) or info
    lineno = getattr(stmt, "lineno", None)
    if lineno is None or origin is None:
        return None, None
    real = lineno + origin.line_offset
    text = linecache.getline(origin.filename, real).strip()
    return (origin.filename, real), text


def _emit_block(stmts, depth, lines, info, state, sections):
    pad = "    " * depth
    for stmt in stmts:
        title = sections.get(id(stmt))
        if title:
            lines.append(f"{pad}# {title}")
            state["line"] = None
        key, text = _source_line(info, stmt)
        if key is not None:
            state["map"][len(lines) + 1] = key
        if key is not None and key != state["line"] and text and not isinstance(
                stmt, (g.Return,)):
            lines.append(f"{pad}# {text}")
            state["line"] = key
        if key is not None:
            state["map"][len(lines) + 1] = key
        if isinstance(stmt, g.If):
            lines.append(f"{pad}if {_expr(stmt.test)}:")
            _emit_block(stmt.body, depth + 1, lines, info, state, sections)
            if stmt.orelse:
                lines.append(f"{pad}else:")
                _emit_block(stmt.orelse, depth + 1, lines, info, state, sections)
            state["line"] = None
        elif isinstance(stmt, g.For):
            lines.append(f"{pad}for {_expr(stmt.target)} in {_expr(stmt.iter)}:")
            _emit_block(stmt.body, depth + 1, lines, info, state, sections)
            state["line"] = None
        elif isinstance(stmt, g.While):
            lines.append(f"{pad}while {_expr(stmt.test)}:")
            _emit_block(stmt.body, depth + 1, lines, info, state, sections)
            state["line"] = None
        else:
            for text_line in _stmt(stmt).splitlines():
                if key is not None:
                    state["map"][len(lines) + 1] = key
                lines.append(pad + text_line)


def user_line(filename, lineno):
    """(label of the generated code, the user's (file, line)) for a line of generated code,
    or None when ``filename`` is not generated code (or the line has no user line)."""
    origin = _ORIGINS.get(filename)
    if origin is None or lineno not in origin[1]:
        return None
    return origin[0], origin[1][lineno]


def relocate(err):
    """``err``, raised at a line of generated code (code being transformed again), moved to the
    user's line that code came from — through every level of generated code; None when ``err``
    is not located in generated code."""
    found = user_line(err.filename, err.lineno)
    if found is None:
        return None
    labels = []
    while found is not None:
        label, (filename, lineno) = found
        labels.append(label)
        found = user_line(filename, lineno)
    moved = type(err).__new__(type(err))
    moved.__dict__.update(err.__dict__)
    moved.filename, moved.lineno, moved.col_offset = filename, lineno, None
    moved.message = (f"{err.message}, in the code adjoint generated for this line "
                     f"({', '.join(labels)})")
    moved.args = (moved.message,)
    return moved


def locate_raised(err):
    """An :class:`~adjoint.errors.AdjointError` a runtime helper raised without a location
    (``svd`` with ``hermitian=True``, a derivative a helper takes once only), moved to the
    user's line of the innermost generated code on its traceback; ``err`` itself when it has a
    location or no generated code called the helper."""
    if err.filename is not None:
        return err
    frames, tb = [], err.__traceback__
    while tb is not None:
        frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    for filename, lineno in reversed(frames):
        if filename in _ORIGINS:
            err.filename, err.lineno = filename, lineno
            return relocate(err) or err
    return err


def _expr(node):
    return ast.unparse(g.to_python_ast(node))


def _stmt(node):
    tree = g.to_python_ast(node)
    if hasattr(tree, "body"):
        ast.fix_missing_locations(tree)
    elif not hasattr(tree, "lineno"):
        tree.lineno = 1  # the unparser reads a statement's line (for type comments) only
    return ast.unparse(tree)


_ORIGINS = {}  # generated filename -> (label, line map to the user's lines)


def compile_function(source, name, namespace, label, filename=None, linemap=None):
    """Compile ``source`` (one def named ``name``) with ``namespace`` as its globals; returns
    (function, filename). Pass ``filename`` to compile the same text again under its name;
    ``linemap`` (generated line -> the user's (file, line)) lets :func:`user_line` map a
    position in this code back to the user's."""
    if filename is None:
        filename = f"<adjoint {label} #{next(_counter)}>"
        lines = source.splitlines(keepends=True)
        linecache.cache[filename] = (len(source), None, lines, filename)
        if linemap is not None:
            _ORIGINS[filename] = (label, dict(linemap))
    code = compile(source, filename, "exec")
    scope = dict(namespace)
    exec(code, scope)
    return scope[name], filename
