"""The AdjointError family: every error adjoint raises about *user* code.

Each error carries the user's ``filename``, ``lineno`` (1-based, in the real file) and
``col_offset`` (0-based), a message saying what is unsupported, and a ``hint`` saying what to do
instead. ``str(err)`` shows the location, the offending source line and the hint, so that a
traceback is readable without knowing adjoint's internals.
"""

from __future__ import annotations

import linecache


class AdjointError(Exception):
    """Base class of every error adjoint raises about the code it is asked to transform."""

    def __init__(self, message, *, filename=None, lineno=None, col_offset=None, hint=None):
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.col_offset = col_offset
        self.hint = hint
        super().__init__(message)

    def __str__(self):
        parts = []
        if self.filename is not None and self.lineno is not None:
            col = "" if self.col_offset is None else f", column {self.col_offset + 1}"
            parts.append(f"{self.filename}, line {self.lineno}{col}: {self.message}")
            line = linecache.getline(self.filename, self.lineno).rstrip()
            if line:
                parts.append(f"    {line.strip()}")
                if self.col_offset is not None:
                    indent = len(line) - len(line.lstrip())
                    parts.append("    " + " " * max(self.col_offset - indent, 0) + "^")
        else:
            parts.append(self.message)
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class UnsupportedSyntaxError(AdjointError):
    """The function uses Python syntax outside the subset adjoint differentiates."""


class NoRuleError(AdjointError):
    """A call has no derivative rule and no readable source to transform."""


class SourceUnavailableError(AdjointError):
    """The source of a function cannot be read (built-in, interactive, compiled, exec'd)."""


class NonScalarOutputError(AdjointError):
    """``grad`` was asked for the gradient of an output that is not a scalar."""


class WrtError(AdjointError):
    """``wrt`` names a parameter that does not exist, or is of a kind that cannot be used."""


class OptionError(AdjointError, ValueError):
    """A transform was given an option value it does not accept (``checkpoint=0``)."""


class JitError(AdjointError):
    """Numba could not compile the generated code."""


class ArgumentError(AdjointError, TypeError):
    """An argument cannot be differentiated, or is of a kind adjoint does not support yet."""


class CotangentError(AdjointError, ValueError):
    """A pullback or pushforward was given a cotangent or tangent of the wrong shape."""


class InternalError(RuntimeError):
    """Generated code returned something of the wrong shape or type: a bug in adjoint, never
    repaired silently. Please report it with the function that triggered it. Deliberately not
    an :class:`AdjointError`: it says nothing about the user's code, and the random-program
    tester counts it as a crash, not as a refusal."""

    def __init__(self, message, *, hint=None):
        self.message = message
        self.hint = hint
        super().__init__(f"{message}\nhint: {hint}" if hint else message)


class GradientCheckError(AdjointError):
    """``check_grad`` found gradients that disagree with finite differences."""

    def __init__(self, message, *, report=None, max_error=None, **kw):
        super().__init__(message, **kw)
        self.report = report
        self.max_error = max_error

    def __str__(self):
        base = super().__str__()
        return f"{base}\n{self.report}" if self.report else base


def located(cls, message, node, ctx, hint=None):
    """Build an error of class ``cls`` located at ``node`` of the source described by ``ctx``.

    ``ctx`` is a :class:`adjoint.source.SourceInfo` (anything with ``filename`` and
    ``line_offset``); ``node`` is a gast node carrying ``lineno``/``col_offset`` relative to the
    parsed snippet, or None.
    """
    lineno = getattr(node, "lineno", None)
    col = getattr(node, "col_offset", None)
    if lineno is not None and ctx is not None:
        lineno += ctx.line_offset
        col = None if col is None else col + ctx.col_offset
    return cls(message, filename=getattr(ctx, "filename", None), lineno=lineno,
               col_offset=col, hint=hint)
