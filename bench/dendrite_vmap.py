"""DendriteControl-v0 (CA1, 156 compartments) vmapped x1,024 against jaxley's vmapped
``integrate`` of the same cell (issue 18's DendriteControl row).

**The same cell in jaxley.** The task's cell is read with ``read_swc(..., backend="neuron")``
(NEURON's sections): two basal trees (branches 54 and 86) hang on the *start* (loc 0) of the
soma branch, every other branch on its parent's end (loc 1). A jaxley ``Cell(parents=...)``
can only attach a branch at its parent's end, so the old copy (``bench/device.py``'s
``dendrite_jaxley_copy``, parents only) moved those two trees to the soma's other end: a
different cell (max |ΔV| 0.083 mV at the soma on subthreshold rows in float32, vs 0.0006 mV
for VoltageTarget's copy). :func:`jaxley_copy` builds the same electrical tree instead: it
re-roots the branch tree at a free tip, so that every junction is a parent's end, reversing
the branches on the path from that tip to the old root (their compartments in reverse order,
``resistive_load_in``/``out`` swapped) and copying every compartment's geometry, channel
parameters and states. With it our and jaxley's soma traces agree to rounding (the row's
note prints the measured max |ΔV| between our vmapped ``integrate`` and jaxley's).

Workload (as ``bench/env_vs_reference.measure_vmap`` for VoltageTarget): ours = the
functional env's rollout (``jax.jit(jax.vmap(rollout))`` of random actions, 1,024 envs);
jaxley = ``jax.jit(jax.vmap(integrate))`` of the copy over 1,024 soma step-current amplitudes
in [-action_scale, action_scale] (from 1 ms), as many solver steps; ours' vmapped
``integrate`` of the task's cell with the same stimulus for the same-cell check.
"""

from __future__ import annotations

from collections import deque

import jax
import jax.numpy as jnp
import numpy as np

from bench._common import DELTA_T, interleaved, median, timed, timer

TASK = "DendriteControl-v0"
N_BATCH = 1024
#: columns never copied (indices, flags and coordinates jaxley sets itself)
_SKIPPED = ("local_cell_index", "local_branch_index", "local_comp_index", "global_cell_index",
            "global_branch_index", "global_comp_index", "controlled_by_param", "x", "y", "z")


def rerooted_tree(parents, attach):
    """Re-root a branch tree so that every branch hangs on its parent's end.

    Args:
        parents: (n_branches,) int, parent branch of each branch (-1 for the root), parents
            before children.
        attach: (n_branches,) float, where on its parent each branch starts (0.0 = the
            parent's start, 1.0 = its end; nothing else supported).

    Returns:
        ``(order, new_parents, reversed_)``: new branch ``j`` is old branch ``order[j]``,
        ``new_parents[j]`` its parent (new index, -1 for the root, parents first) and
        ``reversed_[j]`` whether it runs from the old branch's end to its start.
    """
    parents, attach = np.asarray(parents, int), np.asarray(attach, float)
    if not np.isin(attach[parents >= 0], (0.0, 1.0)).all():
        raise ValueError("rerooted_tree supports attachments at loc 0 or 1 only")
    n = len(parents)
    point = np.arange(2 * n)  # point 2b: start of branch b, 2b + 1: its end
    for b in range(n):  # parents first: the parent's points are final
        if parents[b] >= 0:
            point[2 * b] = point[2 * parents[b] + int(attach[b] == 1.0)]
    point = np.unique(point, return_inverse=True)[1]
    at_point = {}
    for b in range(n):
        for end in (0, 1):
            at_point.setdefault(point[2 * b + end], []).append((b, end))
    # the free end of a tip: a point with one branch, not the old root's start
    tip = next(b for b in range(n) if len(at_point[point[2 * b + 1]]) == 1)
    order, new_parents, reversed_, seen = [], [], [], set()
    queue = deque([(tip, True, -1)])
    while queue:
        b, rev, parent = queue.popleft()
        seen.add(b)
        order.append(b)
        new_parents.append(parent)
        reversed_.append(rev)
        far = point[2 * b + (0 if rev else 1)]  # the new end of b
        for c, end in at_point[far]:
            if c not in seen:
                queue.append((c, end == 1, len(order) - 1))
    if len(order) != n:
        raise ValueError("the branch tree is not connected")
    return np.array(order), np.array(new_parents), np.array(reversed_)


def jaxley_copy(cell):
    """jaxley's copy of ``cell`` (one cell, the same ``ncomp`` in every branch, HH / Leak where
    ``cell`` has them), re-rooted with :func:`rerooted_tree`.

    Returns:
        ``(ref, comp_of)``: the jaxley cell and, per compartment of ``cell`` (global index),
        its global index in ``ref``.
    """
    import jaxley
    from jaxley.channels import HH, Leak

    topo = cell.base.topology
    ncomp = np.asarray(topo.ncomp)
    if not (ncomp == ncomp[0]).all():
        raise ValueError("jaxley_copy needs the same ncomp in every branch")
    k = int(ncomp[0])
    order, new_parents, rev = rerooted_tree(topo.parents, topo.attach)
    old = np.concatenate([b * k + (np.arange(k)[::-1] if r else np.arange(k))
                          for b, r in zip(order, rev, strict=True)])  # old comp of each new
    comp_of = np.empty_like(old)
    comp_of[old] = np.arange(len(old))
    ref = jaxley.Cell(jaxley.Branch(jaxley.Compartment(), k),
                      parents=[int(p) for p in new_parents])
    nodes = cell.nodes.iloc[old].reset_index(drop=True)
    for name, mech in (("HH", HH), ("Leak", Leak)):
        if name in nodes:
            ref.select(nodes=np.flatnonzero(nodes[name].to_numpy(bool))).insert(mech())
    flipped = np.repeat(rev, k)
    for col in nodes.columns:
        if col in ref.nodes.columns and col not in _SKIPPED + ("HH", "Leak"):
            values = nodes[col].to_numpy()
            if col in ("resistive_load_in", "resistive_load_out"):
                other = "resistive_load_out" if col.endswith("in") else "resistive_load_in"
                values = np.where(flipped, nodes[other].to_numpy(), values)
            ref.nodes[col] = values
    return ref, comp_of


def _comp_view(module, index):
    return module.select(nodes=[int(index)])


def vmapped_integrate(jx, cell, soma_index, t_max):
    """``jax.jit(jax.vmap(integrate))`` of ``cell`` over soma step-current amplitudes (from
    1 ms to ``t_max``), the soma (global compartment ``soma_index``) recorded."""
    cell.delete_recordings()
    cell.delete_stimuli()
    soma = _comp_view(cell, soma_index)
    soma.record("v", verbose=False)

    def sim(amp):
        current = jx.step_current(1.0, t_max, amp, DELTA_T, t_max)
        return jx.integrate(cell, data_stimuli=soma.data_stimulate(current), t_max=t_max,
                            delta_t=DELTA_T)

    return jax.jit(jax.vmap(sim))


def same_cell_dv(ours, ref):
    """(max |ΔV| mV over rows subthreshold (< -40 mV) in both, rows, max |ΔV| over the rows
    finite in both, rows of ``ref`` not finite).

    Rows that jaxley does not keep finite are left out (in float32 one of 1,024 amplitudes
    of the 25 ms run gives NaN in jaxley, none in ours)."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    fin = np.isfinite(ours).all(axis=(1, 2)) & np.isfinite(ref).all(axis=(1, 2))
    ours, ref_fin = ours[fin], ref[fin]
    sub = (ours.max(axis=(1, 2)) < -40.0) & (ref_fin.max(axis=(1, 2)) < -40.0)
    dv_sub = float(np.abs(ours[sub] - ref_fin[sub]).max()) if sub.any() else float("nan")
    dv_all = float(np.abs(ours - ref_fin).max()) if fin.any() else float("nan")
    return dv_sub, int(sub.sum()), dv_all, int((~np.isfinite(ref).all(axis=(1, 2))).sum())


def programs(env, params, rollout_steps):
    """{label: (fn, arg)} of ours (``functional``: the env rollout), ``reference`` (jaxley's
    vmapped integrate of :func:`jaxley_copy`) and ``ours integrate``, for ``rollout_steps``
    control periods of ``N_BATCH`` envs / amplitudes; and the solver steps per row."""
    import jaxley

    import simulator
    from bench.env_vs_reference import make_rollout
    from neuroenv.tasks.dendrite_control import ca1_cell

    n_steps = rollout_steps * env.substeps
    t_max = n_steps * DELTA_T
    scale = float(params.action_scale)
    amps = jnp.linspace(-scale, scale, N_BATCH)
    ours_cell = ca1_cell(1)[0]
    ref_cell, comp_of = jaxley_copy(ours_cell)
    soma = 0  # the soma branch's compartment (task card: site 0)
    return {
        "functional": (make_rollout(env, params, rollout_steps),
                       jax.random.split(jax.random.key(0), N_BATCH)),
        "reference": (vmapped_integrate(jaxley, ref_cell, comp_of[soma], t_max), amps),
        "ours integrate": (vmapped_integrate(simulator, ours_cell, soma, t_max), amps),
    }, n_steps


def measure(rollout_steps=25, repeats=3):
    """Solver steps/s of the three programs of :func:`programs` (``N_BATCH`` x
    ``rollout_steps`` control periods), steady-state repeats interleaved, and the same-cell
    check of our and jaxley's vmapped integrate.

    Returns {"rate": {label: solver steps/s}, "first": {label: s}, "n_steps", "t_max",
    "dv_sub", "n_sub", "dv_all" (mV), "ref_not_finite" (jaxley's rows with NaN/inf),
    "errors" (numerical-error flags of the env), "finite" (ours: env and integrate), "dtype"}.
    """
    import neuroenv

    env, params = neuroenv.make(TASK)
    progs, n_steps = programs(env, params, rollout_steps)
    first, outs = {}, {}
    for label, (fn, arg) in progs.items():
        first[label], outs[label] = timed(fn, arg)
    samples = interleaved({label: timer(fn, arg) for label, (fn, arg) in progs.items()},
                          repeats)
    rate = {label: N_BATCH * n_steps / median(s) for label, s in samples.items()}
    ok, ret, err = (np.asarray(x) for x in outs["functional"])
    ref_v, our_v = np.asarray(outs["reference"]), np.asarray(outs["ours integrate"])
    dv_sub, n_sub, dv_all, ref_bad = same_cell_dv(our_v, ref_v)
    return {"rate": rate, "first": first, "n_steps": n_steps, "t_max": n_steps * DELTA_T,
            "dv_sub": dv_sub, "n_sub": n_sub, "dv_all": dv_all, "ref_not_finite": ref_bad,
            "errors": int(err.sum()), "dtype": str(ref_v.dtype),
            "finite": bool(ok.all() and np.isfinite(ret).all() and np.isfinite(our_v).all())}
