"""Forward mode (``derive_jvp`` and ``adjoint.jvp``), interpreted and compiled by Numba.

Checks:

- every zoo function's jvp, with random tangents, against central finite differences of the
  user's function along the tangent (Python mode: the whole zoo, two points; jit mode: a subset
  covering every control-flow form, subscripts, calls and the math rules, against finite
  differences and against Python mode to ~1e-10), and that the value is ``f(*args)``;
- the inner-product identity ⟨u, J·v⟩ = ⟨Jᵀ·u, v⟩ between jvp and reverse mode: ``adjoint.grad``
  for scalar outputs (u = 1), ``adjoint.vjp`` with random cotangents for array and tuple outputs;
- inactive arguments (no tangent parameter, no tangent code), outputs that do not depend on
  ``wrt`` (zero tangents of the output's type), an int argument named in ``wrt`` (a float
  tangent, also from an int tangent), tuple outputs;
- forward mode over reverse mode's generated gradient (tapes included) gives Hessian-vector
  products matching finite differences of the gradient;
- the symbolic zero tangent never reaches generated code (``fold_zero`` and end to end);
- tangents stay type-stable under Numba (initialised before a loop or in the other branch),
  the caller's arguments and tangents are never written, results are fresh arrays, and the same
  function generates the same text twice.

CI time: one Derived (and one Numba compilation) per (function, wrt), shared by every test
through ``_derived`` and ``_jitted``.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from harness import rng, zoo_points
from zoo import ZOO, by_name

import adjoint
from adjoint import grammar as g
from adjoint.errors import NoRuleError
from adjoint.jit import njit_derived
from adjoint.pipeline import derive_jvp
from adjoint.template import ZERO_NAME
from adjoint.transforms.zero_tangent import ZERO_OF, fold_zero

FD_TOL = 1e-6  # relative to max(1, |derivative|); central differences reach ~1e-9 here
JIT_TOL = 1e-10

# A subset for jit mode (each compilation costs ~0.5-1 s): straight-line code, every form of
# branch, loop, early exit and subscript, inlined calls, and the math, builtin and NumPy rules.
JIT_SUBSET = (
    "poly", "reassign", "tuple_unpack", "unused_and_dead", "two_returns", "three_returns",
    "returns_in_both_branches", "power_xy", "divide", "modulo", "boolean_mix", "piecewise",
    "nested_if", "if_without_else", "if_assigns_used_later", "nested_ternary",
    "augmented_all", "range_loop", "range_negative_step", "zero_trip_loops",
    "count_may_be_zero", "for_elements_carried", "while_data_dependent", "newton_sqrt",
    "while_true_break", "for_break", "for_continue", "early_return_in_loop",
    "break_over_elements", "continue_over_elements", "early_return_nested",
    "while_with_continue", "nested_loops", "matvec_loops", "nested_break", "fibonacci_like",
    "horner", "logistic_map", "recurrent_cell", "index_2d", "index_by_int_argument",
    "write_into_zeros", "write_then_add", "prefix_sum_in_place", "overwrite_2d_read_before",
    "swap_elements", "accumulate_2d_in_place", "call_tuple_helper", "call_helper_in_loop",
    "call_branching_helper", "global_array_in_loop", "math_asin", "math_atan2", "math_tanh",
    "math_log1p", "math_pow", "math_hypot", "math_erf", "math_copysign", "builtin_min_max_three",
    "builtin_float", "int_argument_in_wrt", "np_hyperbolic", "np_maximum_arrays",
    "np_sum_axis", "matmul_loss", "np_zeros_like_accumulate", "broadcast_three_ways",
)


# ----------------------------------------------------------------------------------- helpers
def kind(a):
    """What generated code may assume of an argument, as adjoint.api passes it."""
    return a.ndim if isinstance(a, np.ndarray) else "scalar"


_DERIVED = {}
_JITTED = {}


def _derived(fn, wrt, kinds=None, optimize=True):
    key = (fn, wrt if not isinstance(wrt, list) else tuple(wrt), kinds, optimize)
    if key not in _DERIVED:
        _DERIVED[key] = derive_jvp(fn, wrt, kinds=kinds, optimize=optimize)
    return _DERIVED[key]


def _jitted(fn, wrt, kinds=None):
    key = (fn, wrt, kinds)
    if key not in _JITTED:
        _JITTED[key] = njit_derived(_derived(fn, wrt, kinds))
    return _JITTED[key]


def positions(fn, wrt):
    names = list(inspect.signature(fn).parameters)
    items = wrt if isinstance(wrt, tuple) else (wrt,)
    return [names.index(w) if isinstance(w, str) else w for w in items]


def random_tangents(args, pos, rng):
    return [rng.standard_normal(args[p].shape) if isinstance(args[p], np.ndarray)
            else float(rng.standard_normal()) for p in pos]


def flat(value):
    if isinstance(value, tuple):
        return np.concatenate([flat(v) for v in value]) if value else np.zeros(0)
    return np.ravel(np.asarray(value, dtype=float))


def directional_difference(fn, args, pos, tangents):
    """(f(x + h t) - f(x - h t)) / 2h along the tangents, flattened."""
    scale = max([1.0] + [float(np.max(np.abs(args[p]))) for p in pos])
    h = 6e-6 * scale

    def at(s):
        moved = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        for p, t in zip(pos, tangents):
            moved[p] = moved[p] + s * t
        return flat(fn(*moved))

    return (at(h) - at(-h)) / (2 * h)


def assert_close(got, want, tol, label):
    got, want = flat(got), flat(want)
    assert got.shape == want.shape, f"{label}: shape {got.shape} != {want.shape}"
    err = np.max(np.abs(got - want), initial=0.0) / max(1.0, np.max(np.abs(want), initial=0.0))
    assert err <= tol, f"{label}: relative error {err:.2e}\n got {got}\nwant {want}"


def points(entry):
    """The labels of the zoo entry's test points (``harness.zoo_points``)."""
    return [label for label, _ in zoo_points(entry)]


def draw(entry, point=None):
    """The arguments of the zoo entry's test point labelled ``point`` (default: the first)."""
    found = dict(zoo_points(entry))
    return found[point] if point is not None else next(iter(found.values()))


def run_entry(entry, point, mode, optimize=True):
    """(args, tangents, value, tangent) of one zoo entry at one of its test points."""
    args = draw(entry, point)
    kinds = tuple(map(kind, args))
    pos = positions(entry.fn, entry.wrt)
    tangents = random_tangents(args, pos, rng("tangent", entry.name, point))
    call = _jitted(entry.fn, entry.wrt, kinds) if mode == "jit" else \
        _derived(entry.fn, entry.wrt, kinds, optimize).function
    value, tangent = call(*args, *tangents)
    return args, tangents, value, tangent


# ------------------------------------------------------------------ against finite differences
@pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "unoptimized"])
@pytest.mark.parametrize("entry", ZOO, ids=lambda e: e.name)
def test_zoo_jvp_matches_finite_differences_python(entry, optimize):
    for point in points(entry):
        args, tangents, value, tangent = run_entry(entry, point, "python", optimize)
        label = f"{entry.name} {point} optimize={optimize}"
        expected = entry.fn(*args)
        assert_like_output(value, tangent, expected, label)
        assert_close(value, expected, 1e-12, label + " value")
        want = directional_difference(entry.fn, args, positions(entry.fn, entry.wrt), tangents)
        assert_close(tangent, want, FD_TOL, label + " tangent")


def assert_like_output(value, tangent, expected, label):
    """The generated jvp's value has the shape and dtype of ``f(*args)``; its tangent is a
    float for a scalar output, else a float64 array of the output's shape. (This is the
    generated code, not ``adjoint.jvp``: a scalar may be a NumPy float64, a subclass of float;
    test_numpy_zoo checks ``adjoint.jvp``'s exact types.)"""
    if isinstance(expected, np.ndarray):
        for name, got in (("value", value), ("tangent", tangent)):
            assert type(got) is np.ndarray, f"{label}: {name} {type(got)} is not an array"
            assert got.shape == expected.shape, f"{label}: {name} shape {got.shape}"
        assert value.dtype == expected.dtype and tangent.dtype == np.float64, label
    else:
        assert isinstance(value, float), f"{label}: value {type(value)} is not a float"
        assert isinstance(tangent, float), f"{label}: tangent {type(tangent)} is not a float"


def _jit_entries():
    return [pytest.param(by_name(name), id=name) for name in JIT_SUBSET]


@pytest.mark.parametrize("entry", _jit_entries())
def test_zoo_jvp_jit_matches_python_and_finite_differences(entry):
    for point in points(entry):  # one compilation; every point (branch arms included)
        args, tangents, value, tangent = run_entry(entry, point, "jit")
        _, _, py_value, py_tangent = run_entry(entry, point, "python")
        label = f"{entry.name} {point} jit"
        assert_close(value, py_value, JIT_TOL, f"{label} value")
        assert_close(tangent, py_tangent, JIT_TOL, f"{label} tangent")
        want = directional_difference(entry.fn, args, positions(entry.fn, entry.wrt), tangents)
        assert_close(tangent, want, FD_TOL, f"{label} tangent vs finite differences")


def test_jit_subset_covers_forty_functions_and_every_control_flow_form():
    assert len(set(JIT_SUBSET)) == len(JIT_SUBSET) >= 40
    sources = "\n".join(inspect.getsource(by_name(n).fn) for n in JIT_SUBSET)
    for form in ("if ", "else:", "for ", "while ", "break", "continue", "return", "[i] =",
                 "math.", "np.", " if ", "+="):
        assert form in sources, f"the jit subset has no {form.strip()!r}"


# ------------------------------------------------------------------- inner-product identity
@pytest.mark.parametrize("name", JIT_SUBSET)
def test_jvp_agrees_with_grad_by_inner_product(name):
    """For a scalar output ⟨1, J v⟩ = ⟨∇f, v⟩: forward and reverse mode agree to rounding."""
    entry = by_name(name)
    for point in points(entry):
        args, tangents, _, tangent = run_entry(entry, point, "python")
        grads = adjoint.grad(entry.fn, wrt=entry.wrt)(*args)
        grads = grads if isinstance(entry.wrt, tuple) else (grads,)
        inner = sum(float(np.sum(np.asarray(gr) * t)) for gr, t in zip(grads, tangents))
        assert_close(tangent, inner, 1e-9, f"{name} {point}")


def vector_output(x, w):
    return np.sin(x) * w + x ** 2


def matvec(A, x):
    return A @ x + np.tanh(x)


def prefix_products(x, a):
    out = np.zeros_like(x)
    acc = 1.0
    for i in range(len(x)):
        acc = acc * (a + x[i])
        out[i] = acc
    return out


def pair_output(x, y):
    return x * y, np.sum(x) * y


def clipped_steps(x):
    h = x.copy()
    for i in range(3):
        h = np.maximum(h * 1.5 - 0.2, 0.1 * h)
    return h


_VECTOR_CASES = [
    ("vector_output", vector_output, (0, 1),
     lambda r: (r.uniform(-1.0, 1.0, 5), float(r.uniform(0.5, 2.0)))),
    ("matvec", matvec, (0, 1), lambda r: (r.standard_normal((4, 4)), r.standard_normal(4))),
    ("prefix_products", prefix_products, (0, 1),
     lambda r: (r.uniform(0.5, 1.5, 5), float(r.uniform(0.5, 1.0)))),
    ("pair_output", pair_output, (0, 1), lambda r: (r.standard_normal(4), float(r.normal()))),
    ("clipped_steps", clipped_steps, 0, lambda r: (r.uniform(0.5, 2.0, 6),)),
]


@pytest.mark.parametrize("mode", ["python", "jit"])
@pytest.mark.parametrize("name,fn,wrt,gen", _VECTOR_CASES, ids=[c[0] for c in _VECTOR_CASES])
def test_jvp_agrees_with_vjp_by_inner_product(name, fn, wrt, gen, mode):
    """⟨u, J v⟩ = ⟨Jᵀ u, v⟩ with random u and v, for array and tuple outputs."""
    rng = np.random.default_rng(7)
    args = gen(rng)
    pos = positions(fn, wrt)
    v = random_tangents(args, pos, rng)
    kinds = tuple(map(kind, args))
    call = _jitted(fn, wrt, kinds) if mode == "jit" else _derived(fn, wrt, kinds).function
    value, jv = call(*args, *v)
    u = tuple(rng.standard_normal(np.shape(o)) for o in value) if isinstance(value, tuple) \
        else rng.standard_normal(np.shape(value))
    _, pullback = adjoint.vjp(fn, wrt=wrt, jit=(mode == "jit"))(*args)
    ju = pullback(u)
    ju = ju if isinstance(wrt, tuple) else (ju,)
    left = float(np.dot(flat(u), flat(jv)))
    right = sum(float(np.sum(np.asarray(a) * b)) for a, b in zip(ju, v))
    assert abs(left - right) <= 1e-9 * max(1.0, abs(left)), f"{name}: {left} != {right}"
    assert_close(jv, directional_difference(fn, args, pos, v), FD_TOL, name)


def test_numpy_activations_agree_with_vjp():
    """The activations of examples/numpy_models.py (array outputs), through the public API."""
    from numpy_zoo import by_name as numpy_entry
    rng = np.random.default_rng(3)
    for name in ("relu", "sigmoid", "softplus", "gelu", "softmax", "log_softmax"):
        entry = numpy_entry(name)
        for label, gen in entry.cases:
            args = gen(rng)
            t = random_tangents(args, [0], rng)
            value, jv = adjoint.jvp(entry.fn)(*args, *t)
            u = rng.standard_normal(np.shape(value))
            _, pullback = adjoint.vjp(entry.fn)(*args)
            left = float(np.dot(flat(u), flat(jv)))
            right = float(np.sum(np.asarray(pullback(u)) * t[0]))
            assert abs(left - right) <= 1e-9 * max(1.0, abs(left)), f"{name} {label}"


# ------------------------------------------------------------------- forward over reverse
HVP_SUBSET = ("range_loop", "for_elements_carried", "while_data_dependent", "newton_sqrt",
              "early_return_nested", "break_over_elements", "logistic_map", "recurrent_cell",
              "nested_if", "math_atan2", "call_helper_in_loop", "index_by_int_argument")


@pytest.mark.parametrize("mode", ["python", "jit"])
@pytest.mark.parametrize("name", HVP_SUBSET)
def test_jvp_of_generated_gradient_is_a_hessian_vector_product(name, mode):
    """Forward mode over reverse mode's generated code, tapes (list stacks) included: pushes
    and pops of a tape carry tangents on a tangent tape."""
    entry = by_name(name)
    wrt = entry.wrt[0] if isinstance(entry.wrt, tuple) else entry.wrt
    grad = adjoint.grad(entry.fn, wrt=wrt)
    d = _derived(grad, wrt)
    args = draw(entry)
    pos = positions(entry.fn, wrt)
    v = random_tangents(args, pos, np.random.default_rng(4))
    call = _jitted(grad, wrt) if mode == "jit" else d.function
    _, hv = call(*args, 1.0, *v)  # dout = 1.0 passed: the tangents follow every parameter
    assert_close(hv, directional_difference(grad, args, pos, v), FD_TOL, name)


# --------------------------------------------------------------- activity and the zero tangent
def scaled(x, y):
    return x * y + np.sin(y)


def constant_output(x, c):
    return c * 2.0


def test_inactive_argument_has_no_tangent():
    d = derive_jvp(scaled, 0)
    assert list(inspect.signature(d.function).parameters) == ["x", "y", "x_dot"]
    assert "y_dot" not in d.source
    assert "cos" not in d.source  # sin(y) is inactive: no tangent code for it
    value, tangent = d.function(1.5, 3.0, 2.0)
    assert value == scaled(1.5, 3.0) and tangent == 6.0


@pytest.mark.parametrize("mode", ["python", "jit"])
def test_output_independent_of_wrt_has_a_zero_tangent_of_its_type(mode):
    scalar = adjoint.jvp(constant_output, jit=(mode == "jit"))(1.0, 3.0, 1.0)
    assert scalar == (6.0, 0.0) and isinstance(scalar[1], float)
    _, t = adjoint.jvp(constant_output, jit=(mode == "jit"))(1.0, np.ones(3), 1.0)
    assert isinstance(t, np.ndarray) and t.shape == (3,) and not t.any()


def dot_with_inactive_matrix(A, x):
    return np.sum(np.dot(A, x) * (A @ x)) + np.sum(np.outer(x, A[0]))


def solve_with_inactive_matrix(A, x):
    return np.sum(np.linalg.solve(A, x) ** 2)


@pytest.mark.parametrize("fn,modes", [(dot_with_inactive_matrix, ("python", "jit")),
                                      (solve_with_inactive_matrix, ("python",))])
@pytest.mark.parametrize("wrt", [0, 1])
def test_symbolic_zero_never_reaches_generated_code(fn, modes, wrt):
    """Two-term templates (``d[a] @ b + a @ d[b]``, ``solve``) with one inactive operand."""
    rng = np.random.default_rng(5)
    args = (rng.standard_normal((3, 3)) + 3 * np.eye(3), rng.standard_normal(3))
    d = _derived(fn, wrt, (2, 1))
    assert ZERO_NAME not in d.source and ZERO_OF not in d.source and "0.0 @" not in d.source
    t = random_tangents(args, [wrt], rng)
    for mode in modes:
        call = _jitted(fn, wrt, (2, 1)) if mode == "jit" else d.function
        _, tangent = call(*args, *t)
        want = directional_difference(fn, args, [wrt], t)
        assert_close(tangent, want, FD_TOL, f"{fn.__name__} wrt={wrt} {mode}")


def _expr(text):
    return g.from_source(text).body[0].value


@pytest.mark.parametrize("text,want", [
    ("__zero__ @ b + a @ t_dot", "a @ t_dot"),
    ("np.dot(__zero_of__(a), b) + np.dot(a, t_dot)", "np.dot(a, t_dot)"),
    ("np.pad(__zero_of__(x), w, m) + __zero_of__(c) * pad_border(x, w)", None),
    ("np.pad(t_dot, w, m) + __zero_of__(c) * pad_border(x, w)", "np.pad(t_dot, w, m)"),
    ("reduce_sum(__zero_of__(a) * weights(a), axis, k) / n", None),
    ("-(z @ __zero_of__(a) @ z)", None),
    ("t_dot - __zero_of__(b) * b", "t_dot"),
    ("__zero_of__(a) - t_dot", "-t_dot"),
    ("np.diagonal(__zero_of__(a), 0, 0, 1).copy()", None),
    ("np.array([t_dot, __zero_of__(1.0)])", "np.array([t_dot, 0.0])"),
    ("np.stack([__zero_of__(a), __zero_of__(b)])", None),
    # a zero beside a nonzero tangent in a helper's arguments must exist as a value
    ("add_at(fresh(__zero_of__(y)), i, t_dot)", "add_at(fresh(zeros_like(y)), i, t_dot)"),
    ("t_dot / __zero_of__(b)", "t_dot / zeros_like(b)"),
])
def test_fold_zero(text, want):
    folded = fold_zero(_expr(text), {"t_dot"})
    assert (g.unparse(folded) if folded is not None else None) == want


# ---------------------------------------------------------------------------- int arguments
def int_only(n):
    return n * n + 3 * n


@pytest.mark.parametrize("mode", ["python", "jit"])
def test_int_argument_in_wrt_is_differentiated_as_a_float(mode):
    entry = by_name("int_argument_in_wrt")  # x**k + k*x, wrt x and k
    jvp = adjoint.jvp(entry.fn, wrt=entry.wrt, jit=(mode == "jit"))
    value, tangent = jvp(1.5, 3, 0.0, 1)  # an int tangent for the int argument
    assert value == entry.fn(1.5, 3)
    assert isinstance(tangent, float)
    assert tangent == pytest.approx(1.5 ** 3 * np.log(1.5) + 1.5, rel=1e-12)
    value, tangent = adjoint.jvp(int_only, jit=(mode == "jit"))(4, 1)
    assert value == 28 and tangent == 11.0 and isinstance(tangent, float)


# ------------------------------------------------------------------------------ tuple outputs
def test_tuple_output_gives_a_tuple_of_values_and_a_tuple_of_tangents():
    d = derive_jvp(pair_output, (0, 1))
    assert d.outputs == 2
    x = np.array([1.0, 2.0, 3.0])
    (v0, v1), (t0, t1) = d.function(x, 2.0, np.ones(3), 0.5)
    np.testing.assert_array_equal(v0, x * 2.0)
    assert v1 == 12.0
    np.testing.assert_allclose(t0, 2.0 + 0.5 * x)
    assert t1 == pytest.approx(3.0 * 2.0 + 6.0 * 0.5)


# ------------------------------------------------------------------ type stability and safety
def branch_only(x, c):
    y = 1.0
    if c > 0:
        y = x * x
    return y


def test_tangents_are_initialised_before_loops_and_in_the_other_branch():
    loop = _derived(by_name("for_elements_carried").fn, 0, (1,)).source
    assert loop.index("s_dot = zeros_like(s)") < loop.index("\n    for k in")
    d = derive_jvp(branch_only, 0, kinds=("scalar", "scalar"))
    then, orelse = d.source.split("else:")
    assert "y_dot = x_dot * x + x_dot * x" in then and "y_dot = zeros_like(y)" in orelse
    jitted = njit_derived(d)
    assert jitted(3.0, 1.0, 1.0) == (9.0, 6.0)
    assert jitted(3.0, -1.0, 1.0) == (1.0, 0.0)


def writes_into_its_argument(x):
    x[0] = x[1] * 2.0
    return np.sum(x * x)


def writes_through_an_alias(x):
    y = x
    y[0] = y[1] * 3.0
    return np.sum(y * x)


def identity(x):
    return x


@pytest.mark.parametrize("mode", ["python", "jit"])
def test_arguments_and_tangents_are_never_written(mode):
    for fn in (writes_into_its_argument, writes_through_an_alias, by_name("swap_elements").fn,
               by_name("overwrite_element_read_before").fn):
        x = np.array([0.5, -1.0, 2.0, 1.5])
        tx = np.array([1.0, 2.0, 3.0, 4.0])
        xs, txs = x.copy(), tx.copy()
        _, tangent = adjoint.jvp(fn, jit=(mode == "jit"))(x, tx)
        np.testing.assert_array_equal(x, xs)
        np.testing.assert_array_equal(tx, txs)
        want = directional_difference(fn, (xs,), [0], [txs])
        assert_close(tangent, want, FD_TOL, fn.__name__)


def test_results_are_fresh_arrays():
    x, tx = np.ones(3), np.arange(3.0)
    _, tangent = adjoint.jvp(identity)(x, tx)
    np.testing.assert_array_equal(tangent, tx)
    assert not np.shares_memory(tangent, tx)
    tangent[0] = 5.0
    assert tx[0] == 0.0


def test_generation_is_deterministic():
    for name in ("early_return_nested", "matmul_loss", "write_then_add"):
        fn = by_name(name).fn
        assert derive_jvp(fn, by_name(name).wrt).source == \
            derive_jvp(fn, by_name(name).wrt).source


def test_unoptimized_code_computes_the_same():
    entry = by_name("matvec_loops")
    args = draw(entry)
    t = random_tangents(args, [0, 1], np.random.default_rng(2))
    plain = derive_jvp(entry.fn, entry.wrt, optimize=False)
    assert ZERO_NAME not in plain.source and ZERO_OF not in plain.source
    assert_close(plain.function(*args, *t)[1],
                 _derived(entry.fn, entry.wrt, tuple(map(kind, args))).function(*args, *t)[1],
                 1e-12, "optimize=False")


# ------------------------------------------------------------------------------------ errors
def uses_a_function_without_rule(x):
    return np.sum(np.linalg.eigvalsh(np.outer(x, x)))


def test_a_function_without_rule_is_refused_with_its_line():
    with pytest.raises(NoRuleError) as info:
        derive_jvp(uses_a_function_without_rule, 0)
    assert info.value.lineno == inspect.getsourcelines(uses_a_function_without_rule)[1] + 1
    assert "eigvalsh" in str(info.value)


@adjoint.custom_vjp
def _cube(x):
    return x ** 3


@_cube.defvjp
def _cube_bwd(x, out, g):
    return (3.0 * x * x * g,)


@adjoint.custom_vjp
def _scaled_product(a, b, scale):
    return a * b * scale


@_scaled_product.defvjp
def _scaled_product_bwd(a, b, scale, out, g):
    return g * b * scale, g * a * scale, None


@adjoint.custom_vjp
def _clip_st(x):
    return np.clip(x, -1.0, 1.0)


@_clip_st.defvjp
def _clip_st_bwd(x, out, g):
    return g  # straight through: the rule, not clip's derivative


def _uses_custom_rules(x, y):
    total = 0.0
    for i in range(2):
        total += np.sum(_cube(x * (i + 1.0)) * y)
    return total + np.sum(_scaled_product(x, y, 3) ** 2) + np.sum(_clip_st(x) * y)


def _with_differences(fn, args, wrt, directions, h=1e-6):
    """(jvp's tangent, the central difference along ``directions``)."""
    plus = [a + h * directions[wrt.index(k)] if k in wrt else a for k, a in enumerate(args)]
    minus = [a - h * directions[wrt.index(k)] if k in wrt else a for k, a in enumerate(args)]
    return (fn(*plus) - fn(*minus)) / (2 * h)


def test_custom_vjp_forward_rule_is_derived_from_its_reverse_rule():
    """jvp, hvp and hessian through custom_vjp rules: the forward rule is the transpose of the
    user's reverse rule (the gradient in g of <bwd(x, out, g), t>), so the rule holds in forward
    mode too: the straight-through clip passes tangents outside [-1, 1] (clip would not)."""
    r = np.random.default_rng(4)
    x = np.array([0.4, -1.7, 1.3, 0.2])  # two entries outside the clip's [-1, 1]
    y = r.normal(size=4)
    tx, ty = r.normal(size=4), r.normal(size=4)
    _, tangent = adjoint.jvp(_uses_custom_rules, wrt=(0, 1))(x, y, tx, ty)
    straight = np.sum(tx * y)  # the straight-through part, by the rule: d clip_st = dx
    true_clip = np.sum(np.where(np.abs(x) < 1.0, tx, 0.0) * y)
    expected = _with_differences(_uses_custom_rules, (x, y), [0, 1], [tx, ty])
    assert tangent == pytest.approx(expected - true_clip + straight, rel=1e-6)
    # Second order through the rules: hvp (forward over reverse) against differences of grad.
    dx = adjoint.grad(_uses_custom_rules)
    hvp = adjoint.hvp(_uses_custom_rules)(x, y, tx)
    h = 1e-6
    np.testing.assert_allclose(hvp, (dx(x + h * tx, y) - dx(x - h * tx, y)) / (2 * h),
                               rtol=1e-6, atol=1e-8)
    hess = adjoint.hessian(_uses_custom_rules)(x, y)
    np.testing.assert_allclose(hess @ tx, hvp, rtol=1e-10, atol=1e-12)
    jac = adjoint.jacobian(_cube, mode="forward")(x)
    np.testing.assert_allclose(jac, np.diag(3.0 * x * x), rtol=1e-12)


def _cubes_in_a_loop(x):
    total = 0.0
    for i in range(2):
        total += _cube(x * (i + 1.0))
    return total


def test_custom_vjp_forward_rule_under_jit():
    """The derived forward rule compiles with the loop that calls it (Numba), and agrees with
    Python mode."""
    value, tangent = adjoint.jvp(_cubes_in_a_loop, jit=True)(0.7, 0.3)
    assert (value, tangent) == pytest.approx(adjoint.jvp(_cubes_in_a_loop)(0.7, 0.3), rel=1e-12)
    assert tangent == pytest.approx(3.0 * 0.7 * 0.7 * 0.3 * 9.0, rel=1e-12)
