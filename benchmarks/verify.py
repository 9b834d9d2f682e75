"""Checks of gradients: hand-written ones against central finite differences, others against them.

Takes: a ``suite.Case``, its arguments, a compiled primal and a gradient.
Guarantees: ``check_against_fd`` differentiates the primal numerically, argument by argument,
and reports the worst error relative to the allowed error; it never changes the arguments it is
given (perturbations are made on copies). Arrays of up to ``FULL_CHECK_SIZE`` elements are checked
element by element; larger ones on ``SPOT_CHECKS`` random elements and ``DIRECTIONS`` random
directions (the directional derivative <g, v> against (f(x + hv) - f(x - hv)) / 2h).
``agree`` compares two gradients for the "same numbers to rounding" promise.
"""

from dataclasses import dataclass

import numpy as np

FULL_CHECK_SIZE = 2000
SPOT_CHECKS = 16
DIRECTIONS = 3
REL_STEP = 1e-6  # central-difference step, relative to the argument's magnitude
RTOL = 1e-5


@dataclass(frozen=True)
class FDReport:
    argument: str
    checked: str  # what was compared, for the report
    worst: float  # max over checks of |fd - analytic| / allowed; <= 1 passes

    @property
    def ok(self):
        return self.worst <= 1.0


def as_tuple(gradient):
    return gradient if isinstance(gradient, tuple) else (gradient,)


def agree(got, expected, rtol=1e-6):
    """True when ``got`` has ``expected``'s structure and shapes and equal values to rounding."""
    got, expected = as_tuple(got), as_tuple(expected)
    if len(got) != len(expected):
        return False
    for g, e in zip(got, expected):
        if np.shape(g) != np.shape(e):
            return False
        scale = max(1.0, float(np.max(np.abs(e))) if np.size(e) else 1.0)
        if not np.allclose(g, e, rtol=rtol, atol=rtol * scale):
            return False
    return True


def _replace(args, position, value):
    return args[:position] + (value,) + args[position + 1:]


def _error_ratio(fd, analytic, f0, step, grad_scale):
    # Allowed error: relative agreement, plus the rounding of f itself amplified by 1/step.
    allowed = RTOL * abs(analytic) + 1e-7 * grad_scale + 10 * np.finfo(float).eps * abs(f0) / step
    return abs(fd - analytic) / allowed


def check_against_fd(case, args, primal, gradient, rng):
    """One ``FDReport`` per ``wrt`` argument of ``case``, for ``gradient`` at ``args``."""
    f0 = float(primal(*args))
    grads = as_tuple(gradient)
    grad_scale = max(1.0, max(float(np.max(np.abs(g))) for g in grads))
    reports = []
    for name, position, grad in zip(case.wrt, case.wrt_positions(), grads):
        value = args[position]
        if np.ndim(value) == 0:
            step = REL_STEP * max(1.0, abs(value))
            fd = (primal(*_replace(args, position, value + step))
                  - primal(*_replace(args, position, value - step))) / (2 * step)
            worst = _error_ratio(fd, float(grad), f0, step, grad_scale)
            reports.append(FDReport(name, "scalar", worst))
            continue

        step = REL_STEP * max(1.0, float(np.max(np.abs(value))))
        flat_indices = (range(value.size) if value.size <= FULL_CHECK_SIZE
                        else rng.choice(value.size, size=SPOT_CHECKS, replace=False))
        worst = 0.0
        for flat in flat_indices:
            index = np.unravel_index(flat, value.shape)
            plus, minus = value.copy(), value.copy()
            plus[index] += step
            minus[index] -= step
            fd = (primal(*_replace(args, position, plus))
                  - primal(*_replace(args, position, minus))) / (2 * step)
            worst = max(worst, _error_ratio(fd, grad[index], f0, step, grad_scale))
        checked = f"{len(flat_indices)} elements"
        if value.size > FULL_CHECK_SIZE:
            for _ in range(DIRECTIONS):
                direction = rng.normal(size=value.shape)
                direction /= np.linalg.norm(direction)
                fd = (primal(*_replace(args, position, value + step * direction))
                      - primal(*_replace(args, position, value - step * direction))) / (2 * step)
                analytic = float(np.sum(grad * direction))
                worst = max(worst, _error_ratio(fd, analytic, f0, step, grad_scale))
            checked += f" + {DIRECTIONS} directions"
        reports.append(FDReport(name, checked, worst))
    return reports
