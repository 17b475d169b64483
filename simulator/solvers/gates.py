"""Gate-update helpers for Hodgkin-Huxley style channels.

All functions are pure ``jax.numpy`` and broadcast elementwise, so every
argument may be a scalar or an array of shape ``(n,)`` (one entry per
compartment). Units: gate values are dimensionless in [0, 1], ``dt`` and
``tau`` are in ms, rates ``alpha``/``beta`` are in 1/ms.

Each solver advances one gate ``x`` obeying

    dx/dt = alpha (1 - x) - beta x = (x_inf - x) / tau

over one step ``dt`` with the membrane voltage (and hence the rates) frozen
at its value at the start of the step.
"""

import jax.numpy as jnp

__all__ = ["save_exp", "solve_gate_exponential", "solve_inf_gate_exponential",
           "exponential_euler", "solve_gate_implicit"]


def save_exp(x, max_value: float = 20.0):
    """Overflow-safe exponential ``exp(min(x, max_value))``.

    Args:
        x: exponent, scalar or array of any shape (dimensionless).
        max_value: exponents above this are clipped (default 20, so the
            result is at most ``exp(20) ~ 4.9e8``, far below float32 overflow).

    Returns:
        Array of the shape of ``x``. The gradient is ``exp(x)`` below the clip
        and zero above it, never NaN.
    """
    return jnp.exp(jnp.minimum(x, max_value))


def solve_inf_gate_exponential(x, dt, x_inf, tau):
    """Exact step of ``dx/dt = (x_inf - x) / tau`` for frozen ``x_inf``, ``tau``.

    Uses NEURON's ``cnexp`` arithmetic, ``x + (1 - exp(-dt/tau)) (x_inf - x)``,
    so results agree with NEURON to rounding.

    Args:
        x: gate value at the start of the step, shape ``(n,)`` or scalar.
        dt: step size (ms).
        x_inf: steady-state value (dimensionless), broadcastable to ``x``.
        tau: time constant (ms), positive, broadcastable to ``x``.

    Returns:
        Gate value after ``dt``, same shape as ``x``.
    """
    return x + (1.0 - jnp.exp(-dt / tau)) * (x_inf - x)


#: Exponential-Euler step (jaxley's name): :func:`solve_inf_gate_exponential` itself.
exponential_euler = solve_inf_gate_exponential


def solve_gate_exponential(x, dt, alpha, beta):
    """Exact step of ``dx/dt = alpha (1 - x) - beta x`` for frozen rates.

    Computes ``tau = 1 / (alpha + beta)`` and ``x_inf = alpha / (alpha + beta)``
    exactly as NEURON's ``hh.mod`` does and then applies the ``cnexp`` update
    (see :func:`solve_inf_gate_exponential`).

    Args:
        x: gate value at the start of the step, shape ``(n,)`` or scalar.
        dt: step size (ms).
        alpha: opening rate (1/ms), broadcastable to ``x``.
        beta: closing rate (1/ms), broadcastable to ``x``; ``alpha + beta > 0``.

    Returns:
        Gate value after ``dt``, same shape as ``x``.
    """
    rate_sum = alpha + beta
    return solve_inf_gate_exponential(x, dt, alpha / rate_sum, 1.0 / rate_sum)


def solve_gate_implicit(x, dt, alpha, beta):
    """Backward-Euler step ``(x + dt alpha) / (1 + dt (alpha + beta))``.

    First-order accurate, unconditionally stable, and keeps ``x`` in [0, 1].

    Args:
        x: gate value at the start of the step, shape ``(n,)`` or scalar.
        dt: step size (ms).
        alpha: opening rate (1/ms), broadcastable to ``x``.
        beta: closing rate (1/ms), broadcastable to ``x``.

    Returns:
        Gate value after ``dt``, same shape as ``x``.
    """
    return (x + dt * alpha) / (1.0 + dt * alpha + dt * beta)
