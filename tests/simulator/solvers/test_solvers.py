"""The four ODE solvers: empirical order of convergence against the exact solution.

Model: a passive branch (Leak only, different conductance and initial voltage in every
compartment so that membrane and axial parts do not commute). The semi-discrete system
dv/dt = M v + c is linear, so its exact solution is v(t) = v∞ + expm(M t)(v0 − v∞).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

import simulator as jx
from simulator.channels import Leak

N = 5
G_LEAK = np.linspace(0.5e-3, 2e-3, N)  # S/cm²
E_LEAK = -70.0  # mV
V0 = np.linspace(-40.0, -80.0, N)  # mV
RADIUS, LENGTH, RA, CAP = 1.0, 10.0, 50000.0, 1.0
T_END = 2.0  # ms


def passive_branch(ncomp=N, g_leak=G_LEAK, v0=V0):
    branch = jx.Branch(jx.Compartment(), ncomp)
    branch.set("axial_resistivity", RA)
    branch.insert(Leak())
    branch.set("Leak_gLeak", g_leak)
    branch.set("Leak_eLeak", E_LEAK)
    branch.set("v", v0)
    branch.record(verbose=False)
    return branch


def exact(ncomp=N, g_leak=G_LEAK, v0=V0):
    lam = 1000.0 * np.broadcast_to(g_leak, (ncomp,)) / CAP  # 1/ms
    g = 1e7 * RADIUS / (2 * RA * LENGTH**2 * CAP)  # axial coupling of equal cylinders, 1/ms
    M = -np.diag(lam)
    for i in range(ncomp - 1):
        M[i, i + 1] += g
        M[i + 1, i] += g
        M[i, i] -= g
        M[i + 1, i + 1] -= g
    c = lam * E_LEAK
    v_inf = np.linalg.solve(M, -c)
    return v_inf + scipy.linalg.expm(M * T_END) @ (np.broadcast_to(v0, (ncomp,)) - v_inf)


def error(solver, dt, **kw):
    module = passive_branch(**kw)
    n_steps = round(T_END / dt)
    out = np.asarray(jx.integrate(module, t_max=(n_steps - 0.5) * dt, delta_t=dt, solver=solver))
    assert out.shape[1] == n_steps + 1
    return np.abs(out[:, -1] - exact(**kw)).max()


ORDERS = {"bwd_euler": 1, "fwd_euler": 1, "exp_euler": 1, "crank_nicolson": 2}


@pytest.mark.parametrize("solver", list(ORDERS))
def test_empirical_order(x64, solver):
    dts = [0.1, 0.05, 0.025, 0.0125]
    errors = np.array([error(solver, dt) for dt in dts])
    orders = np.log2(errors[:-1] / errors[1:])
    # Measured orders: bwd 0.985–0.996, fwd 1.004–1.015, exp 1.001–1.005, CN 2.000–2.001;
    # errors at dt = 0.0125 ms: 0.050, 0.050, 0.0064, 9e-5 mV.
    np.testing.assert_allclose(orders, ORDERS[solver], atol=0.1)
    assert errors[-1] < 0.1


@pytest.mark.parametrize("solver", list(ORDERS))
def test_single_compartment(x64, solver):
    err = error(solver, 0.025, ncomp=1, g_leak=1e-3, v0=-40.0)
    # exp_euler is exact for one passive compartment; the others are O(dt) or O(dt²).
    # Measured: bwd 0.101, fwd 0.102, CN 4.2e-4, exp 1e-13 mV.
    assert err < {"crank_nicolson": 1e-3, "exp_euler": 1e-9}.get(solver, 0.2)


@pytest.mark.parametrize("solver", list(ORDERS))
def test_branch_points_equal_a_continuous_cable(x64, solver):
    """A 3-compartment branch equals a chain of three 1-compartment branches."""
    from simulator.channels import HH

    def build(module):
        module.insert(HH())
        module.set("v", np.array([-60.0, -65.0, -70.0]))
        module.record(verbose=False)
        module.select(nodes=[0]).stimulate(jx.step_current(0.5, 1.0, 0.1, 0.025, 5.0),
                                           verbose=False)
        return module

    branch = build(jx.Branch(jx.Compartment(), 3))
    chain = build(jx.Cell([jx.Branch(), jx.Branch(), jx.Branch()], [-1, 0, 1]))
    a = np.asarray(jx.integrate(branch, solver=solver))
    b = np.asarray(jx.integrate(chain, solver=solver))
    # Measured max |ΔV| ≤ 2e-11 mV: Kirchhoff branch points reproduce direct coupling.
    np.testing.assert_allclose(a, b, atol=1e-8)
