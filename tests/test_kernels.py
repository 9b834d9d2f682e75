"""adjoint.kernels: what jit=True compiles, read off source text (nothing is compiled here).

The numbers of each plan are checked under jit in tests/test_jit.py; these tests pin the plan
itself: which statements a kernel holds, what crosses its boundary, and that every statement
keeps its line number in the driver or in its kernel.
"""

import textwrap

from adjoint import kernels

LOOPS_IN_ARRAY_CODE = textwrap.dedent("""\
    def df(X, w, n, dout=1.0):
        # forward sweep
        t_tape = []
        z = X @ w
        p = np.exp(z - np.max(z, axis=0, keepdims=True))
        s = 0.0
        for i in range(n):
            t = p[i] * s
            t_tape.append(t)
            s = s + np.tanh(t)
        # backward sweep
        ds = dout
        dp = zeros_like(p)
        for i in range(n - 1, -1, -1):
            t = t_tape.pop()
            dt = ds * (1.0 - np.tanh(t) ** 2)
            dp[i] += dt * s
            ds = ds + dt * p[i]
        dz = dp * p
        dw = matmul_vjp_b(dz, X, w)
        return (dw,)
""")


def test_scalar_code_and_light_work_around_loops_compile_whole():
    assert kernels.plan(LOOPS_IN_ARRAY_CODE, ("scalar",) * 4).how == "whole"
    light = LOOPS_IN_ARRAY_CODE.replace("np.exp(z - np.max(z, axis=0, keepdims=True))", "z") \
        .replace("X @ w", "X[0] * w").replace("matmul_vjp_b(dz, X, w)", "dz")
    assert kernels.plan(light, (2, 1, "scalar", "scalar")).how == "whole"


def test_straight_line_array_code_is_left_to_numpy():
    source = textwrap.dedent("""\
        def df(x, dout=1.0):
            t = np.tanh(x)
            dx = unbroadcast(dout * (1.0 - t * t), x)
            return (dx,)
    """)
    assert kernels.plan(source, (1,)).how == "numpy"


def test_loops_become_one_kernel_with_the_list_tape_made_inside():
    plan = kernels.plan(LOOPS_IN_ARRAY_CODE, (2, 1, "scalar", "scalar"))
    assert plan.how == "kernels" and len(plan.kernels) == 1
    kernel = plan.kernels[0]
    assert kernel.name == "df_loop1"
    assert kernel.params == ["dout", "n", "p", "s"]  # bound before it, read in it
    assert kernel.results == ["dp"]  # bound in it, read after it
    assert "t_tape = []" in kernel.source and "t_tape" not in plan.driver
    assert "keepdims" in plan.driver and "keepdims" not in kernel.source
    assert "    (dp, ) = df_loop1(dout, n, p, s)" in plan.driver.splitlines()


def test_every_statement_keeps_its_line_number():
    plan = kernels.plan(LOOPS_IN_ARRAY_CODE, (2, 1, "scalar", "scalar"))
    original = LOOPS_IN_ARRAY_CODE.splitlines()
    driver = plan.driver.splitlines()
    kernel = plan.kernels[0].source.splitlines()
    for number, line in enumerate(original, 1):
        if not line.strip() or line.strip().startswith(("#", "def ", "t_tape = []")):
            continue
        here = [text[number - 1] if number <= len(text) else "" for text in (driver, kernel)]
        assert line in here or "df_loop1(" in here[0], f"line {number}: {line!r}"


def test_a_value_bound_in_one_branch_moves_the_kernel_start_to_its_binding():
    source = textwrap.dedent("""\
        def df(x, c, n, dout=1.0):
            y = np.sum(x)
            if c > 0:
                a = np.sum(x * x)
            s = y
            for i in range(n):
                if c > 0:
                    s = s + a
            r = np.cumsum(x)
            return (s + np.sum(r),)
    """)
    plan = kernels.plan(source, (1, "scalar", "scalar"))
    kernel = plan.kernels[0]
    assert "a" not in kernel.params and "if c > 0:" in kernel.source.splitlines()[2]
    assert kernel.results == ["s"]


def test_a_result_the_kernel_may_leave_unbound_comes_in_with_its_value():
    source = textwrap.dedent("""\
        def df(x, n, dout=1.0):
            s = np.sum(np.sin(x))
            for i in range(n):
                if x[i] > 0.0:
                    s = x[i]
            return (np.cumsum(x) * s,)
    """)
    kernel = kernels.plan(source, (1, "scalar")).kernels[0]
    assert "s" in kernel.params and kernel.results == ["s"]


FUSABLE = textwrap.dedent("""\
    def df(W, w, X, dout=1.0):
        h = np.tanh(X @ W)
        p = h @ w
        dp = dout * p
        dh = (1.0 - h * h) * w * dp[:, None]
        dq = dh + (dout * (1.0 / np.sum(h, axis=1)))[:, None] * h
        ds = dout * p + dout
        dr = dh * h
        dW = X.T @ (dh + dq + dr)
        return (dW, ds)
""")


def test_elementwise_arithmetic_on_arrays_is_fused_into_one_kernel_per_statement():
    plan = kernels.plan(FUSABLE, (2, 1, 2))
    assert plan.how == "kernels" and not plan.loops
    fused = {k.name: k for k in plan.kernels}
    assert all(k.fused for k in plan.kernels) and sorted(fused) == ["df_fused1", "df_fused2"]
    driver = plan.driver.splitlines()
    # two operations or more, on a surely-array operand (w is a vector; x[:, None] is one)
    assert driver[4] == "    dh = df_fused1(h, w, dp)"
    assert fused["df_fused1"].params == ["h", "w", "dp"]
    # an operand that is not a name, a number or x[:, None] is computed by the driver
    assert driver[5] == ("    dq = df_fused2(dh, (dout * (1.0 / np.sum(h, axis=1)))[:, None], h)")
    assert fused["df_fused2"].source.splitlines()[5] == "    return dh + _operand1 * h"
    # left alone: operands that may all be numbers, a single operation, matrix products
    assert driver[6] == "    ds = dout * p + dout" and driver[7] == "    dr = dh * h"
    assert driver[8] == "    dW = X.T @ (dh + dq + dr)"
    for kernel in plan.kernels:  # the return sits on its statement's line
        line = kernel.source.splitlines().index(next(
            s for s in kernel.source.splitlines() if s.startswith("    return")))
        assert driver[line].split(" = ")[1].startswith(kernel.name)
