"""Custom derivative rules: ``custom_vjp`` (PyTorch's ``autograd.Function``) and ``stop_gradient``.

Run it with ``python examples/custom_rule.py``. Three idioms:

1. a straight-through clip: clip in the forward pass, pass the gradient through unchanged;
2. softplus ``log1p(exp(x))`` computed stably, with a rule that reuses the forward output;
3. a surrogate gradient for a step function, written with ``stop_gradient`` alone.

A rule is inlined into the generated code, so it shows in ``.source`` and compiles under
``jit=True``.
"""

import numpy as np

import adjoint


# 1. Straight-through clip. PyTorch: an autograd.Function whose backward returns grad_output.
@adjoint.custom_vjp
def clip_st(x):
    return np.clip(x, -1.0, 1.0)


@clip_st.defvjp
def clip_st_bwd(x, out, g):  # the inputs, the forward output, the output's cotangent
    return g  # the gradient passes straight through, as if clip were the identity


# 2. Softplus without overflow: log(1 + e^x) = max(x, 0) + log1p(e^-|x|). Its derivative is
# the logistic sigmoid, which the rule computes from the output: 1 - e^-out.
@adjoint.custom_vjp
def softplus(x):
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


@softplus.defvjp
def softplus_bwd(x, out, g):
    return g * -np.expm1(-out)  # one cotangent per input (a bare value for a single input)


def clipped_loss(w):
    return np.sum((clip_st(w) - 0.5) ** 2)


def softplus_loss(x):
    return np.sum(softplus(x))


# 3. Surrogate gradient (spiking networks, binarized nets): the forward value is a hard step,
# the gradient is that of a steep sigmoid. `s + stop_gradient(step - s)` equals `step` in value
# and has the derivative of `s`.
def spike(v, steepness=4.0):
    s = 1.0 / (1.0 + np.exp(-steepness * v))
    step = (v > 0.0) * 1.0
    return s + adjoint.stop_gradient(step - s)


def spike_count(v):
    return np.sum(spike(v))


if __name__ == "__main__":
    w = np.array([-3.0, 0.2, 2.0])
    dloss = adjoint.grad(clipped_loss)
    print("straight-through clip, d/dw =", dloss(w))  # 2 (clip(w) - 0.5) everywhere, even |w| > 1
    assert np.allclose(dloss(w), 2 * (np.clip(w, -1, 1) - 0.5))
    print(dloss.source)

    x = np.array([-800.0, -1.0, 0.0, 1.0, 800.0])
    dsoft = adjoint.grad(softplus_loss, jit=True)
    print("softplus(x)      =", softplus(x))  # finite at +-800, where log1p(exp(x)) overflows
    print("d softplus / dx  =", dsoft(x))  # the sigmoid: 0, 0.269, 0.5, 0.731, 1
    assert np.allclose(dsoft(x), 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50))))
    print(dsoft.source)

    v = np.array([-1.0, -0.1, 0.1, 1.0])
    dspike = adjoint.grad(spike_count)
    print("spikes           =", spike(v))  # 0 or 1
    print("surrogate d/dv   =", dspike(v))  # 4 s (1 - s): nonzero although the step is flat
    s = 1.0 / (1.0 + np.exp(-4.0 * v))
    assert np.allclose(dspike(v), 4.0 * s * (1.0 - s))
    print(dspike.source)
