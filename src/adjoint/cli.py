"""The ``adjoint`` command line: print a generated derivative, or check one numerically.

Takes a target ``FILE.py:FUNC``, loads ``FILE.py`` as a real module (so the function's globals,
its source lines and its imports of sibling modules are what they are when the file is imported),
and then either

- ``adjoint show``  prints the source that :func:`adjoint.grad` (or :func:`adjoint.jvp` with
  ``--mode forward``) generates for ``FUNC``, syntax-coloured when printing to a terminal; or
- ``adjoint check`` compares that gradient with central finite differences at the points given
  by ``--args`` and prints the report of :func:`adjoint.testing.gradient_report`.

Guarantees: exit status 0 on success, 1 when a gradient check fails, 2 on bad input (no such
file or function, a syntax error in the file, unreadable ``--args`` or ``--wrt``, or an
:class:`~adjoint.errors.AdjointError` about the user's code), in which case exactly one line
saying why is written to stderr. Anything else is a bug in adjoint: its traceback is printed and
the exit status is 3, so that a script never mistakes it for a failed check.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import importlib.util
import math
import os
import sys
import traceback
from pathlib import Path

from adjoint.pipeline import STAGES

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL_ERROR = 3

DESCRIPTION = """\
Source-transformation automatic differentiation for numeric Python.

adjoint reads the source of a Python function and writes a new Python function that computes
its derivative. This command shows that generated code, or checks it against finite
differences. A target is written FILE.py:FUNC, for example examples/quickstart.py:f.
"""

EPILOG = """\
examples:
  adjoint show examples/quickstart.py:f
      print the gradient of f with respect to its first argument
  adjoint show examples/quickstart.py:loss --wrt w,b
      gradient with respect to the parameters named w and b (a tuple of two gradients)
  adjoint show examples/quickstart.py:f --mode forward
      the forward-mode (tangent) code instead of the reverse-mode adjoint
  adjoint check examples/quickstart.py:f --args 2.0
      compare the gradient at x = 2.0 with central finite differences
  adjoint check examples/quickstart.py:loss --wrt w,b --args 'w0, b0, X, y'
      arrays are Python expressions; np, math and the names defined in the file are available

exit status:
  0  success    1  a gradient check failed    2  bad input (the reason is on stderr)
  3  internal error in adjoint (please report it with the traceback)
"""

ARGS_HELP = (
    "sample arguments, written as Python expressions separated by commas, e.g. "
    "'2.0, np.ones(3)'; np, numpy, math and the names defined in FILE are available"
)
WRT_HELP = (
    "the argument(s) to differentiate with respect to: a parameter name, a position, or several "
    "separated by commas (default: the first argument)"
)


class BadInput(Exception):
    """The command line or the target file cannot be used; the message is the one-line reason."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr, like every other bad input."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _version():
    from . import __version__
    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="adjoint",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"adjoint {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    show = commands.add_parser(
        "show",
        help="print the generated derivative code of FILE.py:FUNC",
        description="Print the Python source adjoint generates for the derivative of FUNC.",
        epilog="example:\n  adjoint show examples/quickstart.py:loss --wrt w,b",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    show.add_argument("target", metavar="FILE.py:FUNC", help="the function to differentiate")
    show.add_argument("--wrt", help=WRT_HELP)
    show.add_argument(
        "--mode",
        choices=("reverse", "forward"),
        default="reverse",
        help="reverse: the gradient (adjoint.grad, the default); forward: the tangent code "
        "(adjoint.jvp)",
    )
    show.add_argument(
        "--no-optimize",
        action="store_true",
        help="show the code before dead-code elimination and simplification",
    )
    show.add_argument(
        "--checkpoint",
        metavar="S",
        type=_checkpoint_value,
        help="reverse mode: reverse each loop of known trip count with binomial checkpointing, "
        "keeping at most S snapshots of its state ('auto': about log2 of its trip count)",
    )
    show.add_argument(
        "--args",
        metavar="EXPRS",
        help=ARGS_HELP + "; the code is specialised to their kinds (scalar or array, and ndim)",
    )
    show.add_argument(
        "--stage",
        choices=STAGES,
        help="print the function after this normalization stage instead of its derivative "
        "(" + " -> ".join(STAGES) + "), to see what each pass does",
    )
    show.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="syntax colouring (needs Pygments); auto colours only a terminal, and never when "
        "NO_COLOR is set",
    )

    check = commands.add_parser(
        "check",
        help="compare the gradient of FILE.py:FUNC with finite differences",
        description="Compute the gradient of FUNC at the points given by --args and compare it "
        "with central finite differences. Exit status 0 if they agree, 1 if not.",
        epilog="example:\n  adjoint check examples/quickstart.py:f --args 2.0",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("target", metavar="FILE.py:FUNC", help="the function to check")
    check.add_argument("--args", metavar="EXPRS", required=True, help=ARGS_HELP)
    check.add_argument("--wrt", help=WRT_HELP)
    check.add_argument(
        "--jit", action="store_true", help="compile the gradient with Numba (jit=True) first"
    )
    return parser


# --- reading the command line ---------------------------------------------------------------


def parse_target(text: str) -> tuple[Path, str]:
    """``"dir/file.py:func"`` -> ``(Path("dir/file.py"), "func")``."""
    # rpartition: the function name never contains ':', a path might (C:\\ on Windows).
    path, sep, name = text.rpartition(":")
    if not sep or not path or not name:
        raise BadInput(f"expected a target of the form FILE.py:FUNC, got {text!r}")
    if not name.isidentifier():
        raise BadInput(f"{name!r} in {text!r} is not a Python function name")
    return Path(path), name


def parse_wrt(text: str | None):
    """``"a,b"`` -> ``("a", "b")``, ``"0"`` -> ``0``, ``"a"`` -> ``"a"``, None -> None."""
    if text is None:
        return None
    items = [item.strip() for item in text.split(",")]
    parsed = []
    for item in items:
        if item.isdigit():
            parsed.append(int(item))
        elif item.isidentifier():
            parsed.append(item)
        else:
            raise BadInput(
                f"bad --wrt {text!r}: {item!r} is neither a parameter name nor a position"
            )
    return parsed[0] if len(parsed) == 1 else tuple(parsed)


def evaluate_args(text: str | None, namespace: dict) -> tuple:
    """Evaluate ``--args`` as the positional arguments of a call.

    Parsing the text as the argument list of a call (rather than as a tuple) accepts a trailing
    comma and a single argument without one, and makes keyword arguments a clear error.
    """
    if text is None:
        return ()
    if not text.strip():
        raise BadInput("bad --args: it is empty; give at least one value, e.g. --args 2.0")

    def collect(*args):
        return args

    scope = {"__builtins__": builtins, **namespace, "_adjoint_collect_args": collect}
    try:
        call = ast.parse(f"_adjoint_collect_args({text})", "<--args>", mode="eval")
    except SyntaxError as err:
        raise BadInput(f"bad --args {text!r}: {err.msg}") from None
    body = call.body
    # Unbalanced brackets such as "1)+(2" parse, but not as our call: refuse them.
    if not (isinstance(body, ast.Call) and isinstance(body.func, ast.Name)
            and body.func.id == "_adjoint_collect_args"):
        raise BadInput(f"bad --args {text!r}: not a list of expressions separated by commas")
    if body.keywords:
        raise BadInput(f"bad --args {text!r}: give values in parameter order, not name=value")
    try:
        # The text is the user's own command line, run with the user's rights: eval is the point.
        return eval(compile(call, "<--args>", "eval"), scope)
    except Exception as err:  # noqa: BLE001 - any error in the user's expression is bad input
        raise BadInput(f"bad --args {text!r}: {type(err).__name__}: {one_line(err)}") from None


# --- loading the target ---------------------------------------------------------------------


def load_module(path: Path):
    """Import ``path`` as a fresh module whose directory is on ``sys.path`` while it loads."""
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    path = path.resolve()
    # The file's stem is its natural module name; fall back to a private one rather than
    # replace an imported module of the same name (a file called numpy.py, say).
    name = path.stem if path.stem.isidentifier() else "_adjoint_target"
    if name in sys.modules:
        name = f"_adjoint_target_{name}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise BadInput(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    # Registered before running it, as a normal import would: dataclasses, pickling and
    # typing look the module up by name while it executes.
    sys.modules[name] = module
    directory = str(path.parent)
    sys.path.insert(0, directory)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        sys.modules.pop(name, None)
        where = f"{err.filename}:{err.lineno}:{err.offset}" if err.lineno else str(path)
        raise BadInput(f"{where}: syntax error: {err.msg}") from None
    except Exception as err:  # noqa: BLE001 - the file's own code may raise anything
        sys.modules.pop(name, None)
        raise BadInput(
            f"{path}: importing it raised {type(err).__name__}: {one_line(err)}"
        ) from None
    finally:
        # Remove exactly the entry we added, even if the module itself changed sys.path.
        if directory in sys.path:
            sys.path.remove(directory)
    return module


def load_function(target: str):
    """``"file.py:func"`` -> ``(func, module)``."""
    path, name = parse_target(target)
    module = load_module(path)
    fn = getattr(module, name, None)
    if fn is None:
        defined = sorted(
            key
            for key, value in vars(module).items()
            if callable(value) and getattr(value, "__module__", None) == module.__name__
        )
        available = f" (functions defined there: {', '.join(defined)})" if defined else ""
        raise BadInput(f"{path}: no function named {name!r}{available}")
    if not callable(fn):
        raise BadInput(f"{path}: {name!r} is a {type(fn).__name__}, not a function")
    return fn, module


def _checkpoint_value(text):
    """``--checkpoint``: ``auto`` or an int (adjoint.grad refuses one below 1)."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or an int, not {text!r}") from None


# --- the commands ---------------------------------------------------------------------------


def run_show(options) -> int:
    import adjoint

    fn, module = load_function(options.target)
    wrt = parse_wrt(options.wrt)
    sample_args = evaluate_args(options.args, args_namespace(module))
    if options.stage:
        from adjoint.pipeline import stages
        text = dict(stages(fn, 0 if wrt is None else wrt))[options.stage]
    else:
        transform = adjoint.grad if options.mode == "reverse" else adjoint.jvp
        kwargs = {"optimize": not options.no_optimize}
        if wrt is not None:
            kwargs["wrt"] = wrt
        if options.checkpoint is not None:
            if options.mode != "reverse":
                raise BadInput(f"--checkpoint applies to --mode reverse, not --mode "
                               f"{options.mode}")
            kwargs["checkpoint"] = options.checkpoint
        derived = transform(fn, **kwargs)
        text = adjoint.source(derived, *sample_args)
    if not text.endswith("\n"):
        text += "\n"
    if use_color(options.color, sys.stdout):
        text = highlight(text)
    sys.stdout.write(text)
    sys.stdout.flush()
    return EXIT_OK


def run_check(options) -> int:
    fn, module = load_function(options.target)
    wrt = parse_wrt(options.wrt)
    args = evaluate_args(options.args, args_namespace(module))
    # Run the function once by itself first, so that arguments it cannot take are reported as
    # bad input, and an exception raised later can only come from the gradient machinery.
    try:
        fn(*args)
    except Exception as err:  # noqa: BLE001 - the user's function may raise anything
        name = getattr(fn, "__name__", "the function")
        raise BadInput(
            f"{name}({options.args}) raised {type(err).__name__}: {one_line(err)}"
        ) from None
    from adjoint.testing import gradient_report

    kwargs = {"jit": options.jit}
    if wrt is not None:
        kwargs["wrt"] = wrt
    ok, report, _worst = gradient_report(fn, *args, **kwargs)
    print(report.rstrip("\n"))
    return EXIT_OK if ok else EXIT_CHECK_FAILED


def args_namespace(module) -> dict:
    """The names ``--args`` may use: numpy and math, then whatever the target file defines."""
    import numpy as np

    return {"np": np, "numpy": np, "math": math, **vars(module)}


# --- output ---------------------------------------------------------------------------------


def use_color(choice: str, stream) -> bool:
    """Whether to colour: asked for, or (auto) a terminal that did not opt out via NO_COLOR."""
    if choice == "never":
        return False
    if choice == "always":
        return True
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def highlight(text: str) -> str:
    """Colour Python source for a terminal with Pygments; unchanged if Pygments is missing."""
    try:
        from pygments import highlight as pygments_highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return text
    return pygments_highlight(text, PythonLexer(), TerminalFormatter())


def one_line(value) -> str:
    """``str(value)`` squeezed onto one line, so that stderr holds exactly one reason."""
    return " ".join(str(value).split())


def describe_adjoint_error(err) -> str:
    """``file:line:col: message (hint: ...)`` — the compiler-style one-line form."""
    if err.filename is not None and err.lineno is not None:
        # Columns count from 1 here, as in compilers' messages; col_offset counts from 0.
        col = "" if err.col_offset is None else f":{err.col_offset + 1}"
        where = f"{err.filename}:{err.lineno}{col}"
    else:
        where = "adjoint"
    hint = f" (hint: {one_line(err.hint)})" if err.hint else ""
    return f"{where}: {one_line(err.message)}{hint}"


def main(argv=None) -> int:
    options = build_parser().parse_args(argv)
    from adjoint.errors import AdjointError, GradientCheckError

    command = run_show if options.command == "show" else run_check
    try:
        return command(options)
    except BadInput as err:
        print(f"adjoint: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except GradientCheckError as err:
        # A mismatch reported by raising rather than by returning ok=False is still a failed
        # check, not bad input.
        print(str(err))
        return EXIT_CHECK_FAILED
    except AdjointError as err:
        print(describe_adjoint_error(err), file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # `adjoint show ... | head`: the reader left; that is not an error of ours. Point stdout
        # at devnull so that the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception:  # noqa: BLE001 - a bug of ours: show it, and keep exit 1 for checks
        traceback.print_exc()
        print(
            "adjoint: internal error (a bug in adjoint; please report it with the traceback "
            "above)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR
