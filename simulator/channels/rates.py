"""Singularity-safe helpers for rate functions of the form ``x / (exp(x/y) - 1)``.

Many gating rates (e.g. the Hodgkin-Huxley ``alpha_m``) have a removable singularity:
``x / (exp(x/y) - 1)`` is 0/0 at ``x = 0`` although the limit, ``y``, is finite.
:func:`vtrap` and :func:`efun` return finite values *and* finite, correct (custom JVP)
gradients everywhere, including ``x = 0`` and very large ``|x/y|``, in float32 and float64.
float64 reproduces NEURON's ``hh.mod`` rule exactly (``y * (1 - u/2)`` for ``|u| < 1e-6``,
``u = x / y``); float32 uses a Taylor series for ``|u| < 1``, worst relative error 1.6e-7
(about 1.4 ulp). Branches, exponent caps and measured errors: docs/numerics.md.
"""

import jax
import jax.numpy as jnp

__all__ = ["vtrap", "efun", "steady"]

# |u| below which the value uses the Taylor series.
_SMALL_U_F64 = 1e-6
_SMALL_U_F32 = 1.0
# |u| below which the derivative uses its Taylor series.
_SMALL_DU_F64 = 0.1
_SMALL_DU_F32 = 0.5
# u above which exp(u) - 1 == exp(u) in float32 and float64.
_LARGE_U = 40.0
# Largest exponent evaluated (exp of it is finite): float64, float32.
_EXP_CAP_F64 = 700.0
_EXP_CAP_F32 = 80.0


def _is_f64(a) -> bool:
    return jnp.result_type(a) == jnp.float64


def _efun_derivative(u):
    """``d/du [u / (exp(u) - 1)]`` for any real ``u`` (elementwise)."""
    small = jnp.abs(u) < (_SMALL_DU_F64 if _is_f64(u) else _SMALL_DU_F32)
    large = u > _LARGE_U
    # Series -1/2 + u/6 - u^3/180 + u^5/5040 - u^7/151200 + u^9/4790016.
    us = jnp.where(small, u, 0.0)
    u2 = us * us
    series = -0.5 + us * (
        1.0 / 6.0
        + u2 * (-1.0 / 180.0 + u2 * (1.0 / 5040.0 + u2 * (-1.0 / 151200.0 + u2 / 4790016.0)))
    )
    # Closed form (expm1(u) - u exp(u)) / expm1(u)^2 for moderate u.
    um = jnp.where(small | large, 1.0, u)
    em1 = jnp.expm1(um)
    moderate = (em1 - um * jnp.exp(um)) / (em1 * em1)
    # For u > 40, f(u) = u exp(-u) and f'(u) = (1 - u) exp(-u).
    ul = jnp.where(large, u, _LARGE_U)
    asymptotic = (1.0 - ul) * jnp.exp(-ul)
    return jnp.where(small, series, jnp.where(large, asymptotic, moderate))


@jax.custom_jvp
def _vtrap(x, y):
    # One exponential serves the exact and the asymptotic branch: exp(min(u, cap)) is
    # finite (cap 700 in float64, 80 in float32), and for u > 40 exp(u) - 1 == exp(u) to
    # working precision, so x / (exp(u) - 1) is already the asymptote x exp(-u).
    u = x / y
    if _is_f64(u):
        small = jnp.abs(u) < _SMALL_U_F64
        us = jnp.where(small, u, 0.0)
        series = y * (1.0 - us / 2.0)
        ue = jnp.where(small, 1.0, jnp.minimum(u, _EXP_CAP_F64))
        exact = jnp.where(small, y, x) / (jnp.exp(ue) - 1.0)
    else:
        small = jnp.abs(u) < _SMALL_U_F32
        us = jnp.where(small, u, 0.0)
        u2 = us * us
        series = y * (1.0 - us / 2.0 + u2 * (1.0 / 12.0 - u2 * (
            1.0 / 720.0 - u2 * (1.0 / 30240.0 - u2 / 1209600.0))))
        ue = jnp.where(small, 1.0, jnp.minimum(u, _EXP_CAP_F32))
        exact = jnp.where(small, y, x) / (jnp.exp(ue) - 1.0)
    return jnp.where(small, series, exact)


@_vtrap.defjvp
def _vtrap_jvp(primals, tangents):
    x, y = primals
    dx, dy = tangents
    out = _vtrap(x, y)
    u = x / y
    df = _efun_derivative(u)
    # vtrap = y f(x/y):  d/dx = f'(u),  d/dy = f(u) - u f'(u).
    return out, df * dx + (out / y - u * df) * dy


@jax.jit
def vtrap(x, y):
    """``x / (exp(x / y) - 1)``, finite with finite gradients everywhere.

    Args:
        x: numerator, scalar or array (typically a voltage offset in mV).
        y: nonzero scale in the units of ``x``, scalar or broadcastable array.

    Returns:
        Array of the broadcast shape of ``x`` and ``y``; equals ``y`` at
        ``x = 0``. Differentiable in ``x`` and ``y``. Jitted, so eager
        calls compile once per shape and dtype.
    """
    dtype = jnp.result_type(x, y)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.result_type(float)
    return _vtrap(jnp.asarray(x, dtype), jnp.asarray(y, dtype))


def efun(x):
    """``x / (exp(x) - 1)``, finite with finite gradients everywhere.

    Args:
        x: dimensionless argument, scalar or array.

    Returns:
        Array of the shape of ``x``; equals 1 at ``x = 0``.
    """
    return vtrap(x, 1.0)


def steady(rates):
    """Steady state ``alpha / (alpha + beta)`` of a gate with rates ``(alpha, beta)`` (1/ms)."""
    alpha, beta = rates
    return alpha / (alpha + beta)
