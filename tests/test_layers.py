"""No module of ``src/adjoint`` imports from a layer above its own.

The layers are the numbered list of the "Layers" section of ``docs/architecture.md``; this test
reads them from there, so the documentation and the check cannot drift apart. Every import of
every module counts — at the top or inside a function — and relative imports are resolved to
the module they name (``from . import grammar`` imports ``adjoint.grammar``, not the package).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "adjoint"
DOC = ROOT / "docs" / "architecture.md"


def documented_layers():
    """[(layer name, [module patterns])] from the numbered list under "## Layers"."""
    text = DOC.read_text()
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    layers = []
    for item in re.split(r"\n(?=\d+\. \*\*)", section):
        match = re.match(r"\d+\. \*\*([\w ]+)\*\*:(.*?)(?: — |$)", item.strip(), re.S)
        if match:
            layers.append((match.group(1), re.findall(r"`([\w.*]+)`", match.group(2))))
    return layers


def modules():
    """{module name: path}, ``adjoint`` for the package itself."""
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = ["adjoint", *path.relative_to(SRC).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def layer_of(module, layers):
    """The index of the layer listing ``module`` (``adjoint.x.y`` as ``x.y``, or ``x.*``)."""
    short = module.removeprefix("adjoint.") if module != "adjoint" else "adjoint"
    found = [k for k, (_, patterns) in enumerate(layers) for p in patterns
             if p == short or (p.endswith(".*") and (short == p[:-2] or
                                                     short.startswith(p[:-1])))]
    return found


def imports(module, path, known):
    """The modules of ``known`` that ``module`` imports (anywhere in its source)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:
                    out.add(sub)  # a module of the package, not the package
                elif target in known:
                    out.add(target)
    out.discard(module)
    return out


def test_every_module_is_in_exactly_one_documented_layer():
    layers = documented_layers()
    assert len(layers) >= 5, layers
    missing = [m for m in modules() if len(layer_of(m, layers)) != 1]
    assert not missing, f"modules in no layer (or several) of docs/architecture.md: {missing}"


def test_no_module_imports_from_a_layer_above_it():
    layers = documented_layers()
    known = modules()
    upward = []
    for module, path in known.items():
        (own,) = layer_of(module, layers)
        for target in sorted(imports(module, path, known)):
            (theirs,) = layer_of(target, layers)
            if theirs > own:
                upward.append(f"{module} ({layers[own][0]}) imports {target} "
                              f"({layers[theirs][0]})")
    assert not upward, "\n".join(upward)


def test_the_check_sees_an_upward_import(tmp_path):
    """The import resolution finds the imports the layering forbids (no vacuous pass)."""
    known = modules()
    fake = tmp_path / "reverse.py"
    fake.write_text("def f():\n    from ..pipeline import derive\n    from .. import api\n")
    found = imports("adjoint.transforms.reverse", fake, known)
    assert found == {"adjoint.pipeline", "adjoint.api"}
