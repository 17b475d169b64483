"""Gating arithmetic of the Rubin & Terman (2004) model, finite at every voltage.

Every steady state and time constant of the model is a logistic function of the voltage;
:func:`logistic` is ``jax.nn.sigmoid`` (finite values and gradients for any finite or
infinite argument, in float32 and float64). States advance with :func:`relax`, the exact
step of a linear relaxation with frozen coefficients (NEURON's ``cnexp``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from simulator.solvers.gates import save_exp

__all__ = ["logistic", "relax", "save_exp"]


def logistic(u):
    """``1 / (1 + exp(−u))`` elementwise (dimensionless), overflow-free."""
    return jax.nn.sigmoid(u)


def relax(x, dt, x_inf, rate):
    """Exact step of ``dx/dt = rate · (x_inf − x)`` over ``dt`` ms (``rate`` 1/ms, frozen):
    NEURON's ``cnexp`` step ``x + (1 − exp(−rate·dt)) (x_inf − x)`` with ``1 − exp`` as
    ``−expm1``. In float32, ``1 − exp(−y)`` for the Ca equations' y ≈ 3e-6 – 1.5e-5 is off
    by 0.1–0.3 % (a systematic error in Ca's time constant); ``expm1`` is exact to rounding."""
    return x - jnp.expm1(-rate * dt) * (x_inf - x)
