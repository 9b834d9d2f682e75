"""The documentation is tested: its code runs, its generated tables are current, its links resolve.

Takes the Markdown files in ``docs/``. Guarantees, for each file:

- every fenced block opened with ```` ```python ```` runs, in the order of the file, in one
  namespace per file (a later block may use what an earlier one defined), each block written
  to its own ``.py`` file in a temporary directory that is also the working directory — adjoint
  reads function source with ``inspect``, so the code must live in a real file. Blocks that are
  not meant to run use another fence (```` ```text ````, ```` ```console ````);
- every fenced ```` ```console ```` block is a shell session: each ``$ adjoint ...`` line is run
  (as ``python -m adjoint``) from the repository root, and its output (stdout, then stderr) must
  be the lines that follow it; a last line ``[exit status N]`` gives the expected status
  (default 0);
- every relative link points to a file that exists, and every ``#anchor`` to a heading of the
  target page.

And: ``docs/supported.md`` equals what ``tools/gen_supported.py`` renders from the rule
registry now (run in a fresh process, so rules other tests register do not leak in).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))

_FENCE = re.compile(r"^```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$",
                    re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)\)")


def python_blocks(text):
    """(line number, source) of every ```python block of a Markdown text, in order."""
    return [(text[:m.start()].count("\n") + 2, m.group("body"))
            for m in _FENCE.finditer(text) if m.group("lang") == "python"]


def console_sessions(text):
    """(line number, command, expected output lines, expected status) of every ``$`` line in
    the ```console blocks of a Markdown text."""
    sessions = []
    for m in _FENCE.finditer(text):
        if m.group("lang") != "console":
            continue
        first = text[:m.start()].count("\n") + 2
        for k, line in enumerate(m.group("body").splitlines()):
            if line.startswith("$ "):
                sessions.append([first + k, line[2:], [], 0])
            elif sessions and sessions[-1][0] >= first:
                status = re.fullmatch(r"\[exit status (\d+)\]", line)
                if status:
                    sessions[-1][3] = int(status.group(1))
                else:
                    sessions[-1][2].append(line)
    return [tuple(s) for s in sessions]


def _without_code(text):
    return _FENCE.sub("", text)


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    text = _without_code(path.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, re.MULTILINE)}


def test_the_docs_exist():
    names = {p.name for p in PAGES}
    assert {"guide.md", "supported.md", "cli.md", "architecture.md"} <= names


RUNNABLE = [p for p in PAGES if python_blocks(p.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("page", RUNNABLE, ids=lambda p: p.name)
def test_python_blocks_run(page, tmp_path, monkeypatch):
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"docs_{page.stem}"}
    for k, (line, source) in enumerate(blocks):
        path = tmp_path / f"{page.stem}_block{k:02d}_line{line}.py"
        path.write_text(source, encoding="utf-8")
        try:
            # pages show nan and inf on purpose (the np.where pitfall): NumPy need not warn;
            # dont_inherit: a block runs as a file would, without this module's
            # `from __future__ import annotations` (a dataclass needs its module then)
            with np.errstate(divide="ignore", invalid="ignore"):
                exec(compile(source, str(path), "exec", dont_inherit=True),  # noqa: S102
                     namespace)
        except Exception as err:
            raise AssertionError(f"{page.name}, the python block at line {line} raised "
                                 f"{type(err).__name__}: {err}") from err


_SESSIONS = [pytest.param(page, *session, id=f"{page.name}:{session[0]}")
             for page in PAGES for session in console_sessions(page.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("page, line, command, expected, status", _SESSIONS)
def test_console_sessions_print_what_the_page_shows(page, line, command, expected, status):
    argv = shlex.split(command)
    assert argv[0] == "adjoint", f"{page.name}:{line}: only adjoint commands are run"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), NO_COLOR="1")
    run = subprocess.run([sys.executable, "-m", "adjoint", *argv[1:]], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600, check=False)
    got = [ln.rstrip() for ln in (run.stdout + run.stderr).splitlines()]
    assert (got, run.returncode) == ([ln.rstrip() for ln in expected], status), (
        f"{page.name}, line {line}: `{command}` printed (exit status {run.returncode}):\n"
        + "\n".join(got))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_resolve(page):
    text = _without_code(page.read_text(encoding="utf-8"))
    broken = []
    for m in _LINK.finditer(text):
        target = m.group("target")
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        path = (page.parent / file_part).resolve() if file_part else page
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target}: no heading with anchor #{anchor}")
    assert not broken, f"{page.name}: broken links: " + "; ".join(broken)


def test_supported_md_is_generated_from_the_registry():
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_supported.py"), "--check"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_block_extractor_sees_only_python_fences():
    text = ("intro\n```python\nx = 1\n```\n```text\nnot run\n```\n"
            "```python\ny = x + 1\n```\n")
    assert python_blocks(text) == [(3, "x = 1\n"), (9, "y = x + 1\n")]
    session = "```console\n$ adjoint x\nout\n[exit status 2]\n```\n"
    assert console_sessions(session) == [(2, "adjoint x", ["out"], 2)]
    assert slug("autograd.Function → `custom_vjp`") == "autogradfunction--custom_vjp"


def test_cli_md_documents_every_option_of_every_command():
    """A new command or option of ``adjoint`` must be described in docs/cli.md."""
    import argparse

    from adjoint.cli import build_parser

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name, sub in commands.choices.items():
        if f"adjoint {name}" not in text:
            missing.append(f"adjoint {name}")
        for action in sub._actions:
            missing += [f"adjoint {name} {opt}" for opt in action.option_strings
                        if opt.startswith("--") and opt != "--help" and f"`{opt}" not in text]
    assert not missing, "docs/cli.md does not describe: " + ", ".join(missing)


def test_architecture_md_names_only_modules_that_exist():
    """docs/architecture.md must follow the code: every module path it names exists."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    package = ROOT / "src" / "adjoint"
    named = set(re.findall(r"`([\w/]+\.py)`", text)) | set(re.findall(r"`(\w+/)`", text))
    everywhere = {f.name for f in package.rglob("*.py")}

    def exists(p):
        return (package / p).exists() or (ROOT / p).exists() or ("/" not in p and p in everywhere)

    missing = sorted(p for p in named if not exists(p))
    assert named and not missing, f"docs/architecture.md names missing modules: {missing}"
