"""Arithmetic floor: a workload's irreducible work in ONE fused jitted kernel.

For a simulator module made of ``HH`` and ``Leak`` channels (and ``IonotropicSynapse`` s),
:func:`floor_problem` reads the cell (tree, conductances, parameters, initial states,
stimuli, recordings) once, and :func:`floor_runner` returns a jitted function that runs it
for ``n_steps`` steps of ``delta_t`` ms with a trailing batch axis. Per step it does only:

- the HH gate exponentials and exponential-Euler update of m, h, n (the rate functions of
  :mod:`simulator.channels.hh`), on the HH compartments;
- the ionotropic synapse states (if any) and their conductances summed onto the
  post-synaptic compartments;
- the membrane current in its linear form ``−g_tot·v + Σ g·E`` (exact for these channels:
  the gates are fixed within a step, so the current is linear in ``v``), and the stimulus;
- one backward-Euler tree solve (Hines elimination over the module's own node tree, branch
  points included; for an unbranched cable this is the Thomas algorithm), unrolled in Python
  for trees of up to ``UNROLL_MAX`` nodes, a ``lax.scan`` over the nodes otherwise. The
  elimination carries each row's sum instead of its diagonal (``1 + dt·lam`` at a
  compartment, 0 at a branch point: the axial terms cancel), which is both the cheapest form
  (no diagonal to assemble) and accurate in float32; the diagonal of a row whose children are
  eliminated is its row sum minus its lower entry.

Everything that depends only on the parameters and ``delta_t`` (the axial matrix's
off-diagonals and constant diagonal, ``1e3·g/C`` of each channel) is computed once outside the
kernel. It is the same discretisation as our ``bwd_euler`` step (same gates, same
linearisation), so its voltage trace follows ours to rounding (tests/bench/test_floor.py);
our step adds the generality (any channel, clamps, ions, the row-sum and reference-voltage
forms that keep float32 accurate) that the floor leaves out.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from simulator.channels.hh import h_rates, m_rates, n_rates

#: Trees of at most this many nodes are solved by an unrolled elimination.
UNROLL_MAX = 64
#: nA / µm² -> µA / cm².
NA_PER_UM2_TO_UA_PER_CM2 = 1e5
#: mA/cm² -> µA/cm² (channel conductances in S/cm² times mV).
MA_TO_UA = 1e3


@dataclasses.dataclass(frozen=True, eq=False)
class FloorProblem:
    """A module's cell as the floor kernel sees it; arrays are NumPy, in solve order
    (every parent before its children).

    Attributes:
        parent: (n,) parent node (solve order), -1 at roots.
        is_comp: (n,) 1.0 at compartments, 0.0 at branch points.
        cap: (n,) capacitance (µF/cm²), 1 at branch points.
        lower, upper: (n,) conductance (1/ms) of the edge parent -> node and node -> parent
            (0 at roots).
        hh: (n_hh,) nodes with HH; ``hh_all``: True if gates run on every node (cheaper than
            a gather when most nodes have HH; the others get zero HH conductance).
        gna, gk, ena, ek: (n_gates,) HH parameters of the gate nodes (S/cm², mV).
        gl, el: (n,) summed leak conductance (S/cm²) and its reversal (mV).
        v0: (n,) initial voltage (mV); m0, h0, n0: (n_gates,) initial gates.
        area: (n,) area (µm²).
        stim_nodes: (K,) node of each stimulus; stim: (K, T) currents (nA) per step.
        rec: (R,) recorded nodes.
        syn: None or dict of IonotropicSynapse arrays: pre, post (S,) nodes; gS (µS),
            e_syn (mV), v_th, delta (mV), k_minus (1/ms) (S,); s0 (S,).
    """

    parent: np.ndarray
    is_comp: np.ndarray
    cap: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    hh: np.ndarray
    hh_all: bool
    gna: np.ndarray
    gk: np.ndarray
    ena: np.ndarray
    ek: np.ndarray
    gl: np.ndarray
    el: np.ndarray
    v0: np.ndarray
    m0: np.ndarray
    h0: np.ndarray
    n0: np.ndarray
    area: np.ndarray
    stim_nodes: np.ndarray
    stim: np.ndarray
    rec: np.ndarray
    syn: dict | None

    @property
    def n(self) -> int:
        return int(self.parent.shape[0])


def solve_order(tree_parent) -> np.ndarray:
    """A node order with every parent before its children (breadth-first from the roots)."""
    tree_parent = np.asarray(tree_parent)
    children = [[] for _ in range(len(tree_parent))]
    roots = []
    for i, p in enumerate(tree_parent):
        (roots if p < 0 else children[p]).append(i)
    order = list(roots)
    for i in order:  # the list grows while it is read: a breadth-first walk
        order.extend(children[i])
    if len(order) != len(tree_parent):
        raise ValueError("tree_parent is not a forest (a cycle or a bad index)")
    return np.asarray(order, dtype=np.int64)


def _channel_arrays(compiled, states, params, n):
    """(hh nodes, HH parameter/state columns, leak g and g·E per node) in node order."""
    hh, cols = None, {}
    gl = np.zeros(n)
    gle = np.zeros(n)
    for channel, inds in compiled.channels:
        kind, p = type(channel).__name__, channel.name
        inds = np.asarray(inds)
        if kind not in ("HH", "Leak"):
            raise ValueError(f"the floor models HH and Leak only, got channel {kind!r}")
        g = np.asarray(params[f"{p}_gLeak"])[inds]
        gl[inds] += g
        gle[inds] += g * np.asarray(params[f"{p}_eLeak"])[inds]
        if kind == "HH":
            if hh is not None:
                raise ValueError("the floor models one HH channel per module")
            hh = inds
            cols = {k: np.asarray(params[f"{p}_{k}"]) for k in ("gNa", "gK", "eNa", "eK")}
            cols.update({k: np.asarray(states[f"{p}_{k}"]) for k in ("m", "h", "n")})
    if hh is None:
        hh, cols = np.zeros(0, np.int64), {k: np.zeros(n) for k in
                                            ("gNa", "gK", "eNa", "eK", "m", "h", "n")}
    el = np.divide(gle, gl, out=np.zeros(n), where=gl > 0)
    return hh, cols, gl, el


def _synapse_arrays(compiled, states, params, pos):
    if not compiled.synapses:
        return None
    if len(compiled.synapses) != 1 or type(compiled.synapses[0][0]).__name__ != \
            "IonotropicSynapse":
        raise ValueError("the floor models one IonotropicSynapse type only")
    syn, pre, post = compiled.synapses[0]
    p = syn.name
    out = {k: np.asarray(params[f"{p}_{k}"]) for k in ("gS", "e_syn", "v_th", "delta",
                                                      "k_minus")}
    out.update(pre=pos[np.asarray(pre)], post=pos[np.asarray(post)],
               s0=np.asarray(states[f"{p}_s"]))
    return out


def floor_problem(module, delta_t=0.025) -> FloorProblem:
    """The :class:`FloorProblem` of a simulator ``module`` (its current values, stimuli and
    recordings); ``delta_t`` (ms) is only passed to the module's ``init_fn``."""
    from simulator.integrate import _compiled, build_init_and_step_fn

    init_fn, _ = build_init_and_step_fn(module)
    states, params = init_fn([], delta_t=delta_t)
    compiled = _compiled(module)
    num = compiled.numbering
    n = int(num.n_nodes)
    order = solve_order(num.tree_parent)
    pos = np.empty(n, np.int64)
    pos[order] = np.arange(n)
    is_comp = np.asarray(compiled.is_comp)
    g = np.asarray(params["axial_conductances"]["v"], dtype=np.float64)
    g_pad = np.concatenate([g, [0.0]])
    lower = g_pad[np.where(num.lower_edge < 0, len(g), num.lower_edge)]
    upper = g_pad[np.where(num.upper_edge < 0, len(g), num.upper_edge)]
    hh, cols, gl, el = _channel_arrays(compiled, states, params, n)
    hh_all = 2 * len(hh) >= n
    gate_nodes = order if hh_all else hh  # gates in solve order, or in the order of hh
    mask = np.zeros(n, bool)
    mask[hh] = True
    # Gate nodes without HH (hh_all only) get zero conductance and harmless finite values.
    cols = {k: np.where(mask, v, 0.5 if k in ("m", "h", "n") else 0.0)[gate_nodes]
            for k, v in cols.items()}
    base = module.base
    ext = {k: np.asarray(v) for k, v in base.externals.items()}
    if set(ext) - {"i"}:
        raise ValueError(f"the floor models current stimuli only, got {sorted(ext)}")
    stim_nodes = np.asarray(base.external_inds.get("i", np.zeros(0, np.int64)))
    stim = ext.get("i", np.zeros((0, 1)))
    rec = base.recordings
    if set(rec["state"]) - {"v"}:
        raise ValueError("the floor records voltages only")
    cap = np.where(is_comp, np.asarray(params["capacitance"]), 1.0)

    def o(a):  # node order -> solve order
        return np.asarray(a)[order]

    par = np.asarray(num.tree_parent)[order]
    return FloorProblem(
        parent=np.where(par < 0, -1, pos[np.maximum(par, 0)]),
        is_comp=o(is_comp.astype(np.float64)), cap=o(cap), lower=o(lower),
        upper=o(upper), hh=pos[hh], hh_all=hh_all,
        gna=cols["gNa"], gk=cols["gK"], ena=cols["eNa"], ek=cols["eK"],
        gl=o(gl), el=o(el), v0=o(states["v"]), m0=cols["m"], h0=cols["h"], n0=cols["n"],
        area=o(params["area"]), stim_nodes=pos[stim_nodes], stim=stim,
        rec=pos[np.asarray(rec["rec_index"], np.int64)],
        syn=_synapse_arrays(compiled, states, params, pos))


def _gate(x, dt, rates):
    alpha, beta = rates
    total = alpha + beta
    return x + (1.0 - jnp.exp(-dt * total)) * (alpha / total - x)


def _hines_unrolled(parent, lower, upper, s, b):
    """Hines elimination and substitution on row sums ``s`` (see the module docstring), one
    Python statement per node (small trees)."""
    n = len(parent)
    s, b = list(s), list(b)
    for i in range(n - 1, -1, -1):
        p = parent[i]
        if p >= 0:
            m = upper[i] / (s[i] - lower[i])
            s[p] = s[p] - m * s[i]
            b[p] = b[p] - m * b[i]
    x = [None] * n
    for i in range(n):
        p = parent[i]
        x[i] = b[i] / s[i] if p < 0 else (b[i] - lower[i] * x[p]) / (s[i] - lower[i])
    return jnp.stack(x)


def _hines_scan(parent, lower, upper, s, b):
    """The same as ``lax.scan`` s over the non-root nodes: one stacked update of (s, b) per
    eliminated node, one multiply-add per substituted node."""
    kids = np.nonzero(parent >= 0)[0]
    if kids.size == 0:
        return b / s
    rev = kids[::-1]

    def eliminate(sb, xs):
        c, p, lo, up = xs
        m = up / (sb[0, c] - lo)
        return sb.at[:, p].add(-m * sb[:, c]), None

    sb, _ = jax.lax.scan(eliminate, jnp.stack([s, b]), (rev, parent[rev], lower[rev],
                                                       upper[rev]))
    d = sb[0] - lower[:, None]  # lower is 0 at the roots
    x0 = sb[1] / d
    ld = lower[:, None] / d

    def substitute(x, xs):
        c, p, x0_c, ld_c = xs
        return x.at[c].set(x0_c - ld_c * x[p]), None

    x, _ = jax.lax.scan(substitute, x0, (kids, parent[kids], x0[kids], ld[kids]))
    return x


def _constants(prob: FloorProblem, dt, dtype):
    """Per-node constants of the kernel (computed once, outside the time loop)."""
    comp = prob.is_comp
    edge_scale_self = np.where(comp > 0, dt, 1.0)  # branch-point rows: KCL, unscaled
    parent_comp = np.where(prob.parent >= 0, comp[np.maximum(prob.parent, 0)], 0.0)
    c = {
        # A[i, p(i)] = −(dt·)g_{p->i}; A[p(i), i] = −(dt·)g_{i->p} (scaled by the row's kind)
        "lower": -edge_scale_self * prob.lower,
        "upper": -np.where(parent_comp > 0, dt, 1.0) * prob.upper,
        "dt_comp": dt * comp,
        "gl": MA_TO_UA * prob.gl / prob.cap, "gle": MA_TO_UA * prob.gl * prob.el / prob.cap,
        "stim_scale": NA_PER_UM2_TO_UA_PER_CM2 / (prob.area * prob.cap),
    }
    cap_g = prob.cap if prob.hh_all else prob.cap[prob.hh]
    c.update(gna=MA_TO_UA * prob.gna / cap_g, gk=MA_TO_UA * prob.gk / cap_g,
             ena=prob.ena, ek=prob.ek)
    if prob.syn is not None:
        s = prob.syn
        c.update(syn_scale=NA_PER_UM2_TO_UA_PER_CM2 / (prob.area * prob.cap))
        c.update({f"syn_{k}": s[k] for k in ("gS", "e_syn", "v_th", "delta", "k_minus")})
    return {k: jnp.asarray(v, dtype) for k, v in c.items()}


def _membrane(c, prob, v, gates, dt):
    """Gates advanced at ``v`` and (lam, kappa) (n, B) of the channels: 1/ms, mV/ms."""
    m, h, nn = gates
    vg = v if prob.hh_all else v[prob.hh]
    m = _gate(m, dt, m_rates(vg))
    h = _gate(h, dt, h_rates(vg))
    nn = _gate(nn, dt, n_rates(vg))
    n2 = nn * nn
    g_na = c["gna"][:, None] * (m * m * m * h)
    g_k = c["gk"][:, None] * (n2 * n2)
    g_hh = g_na + g_k
    drive = g_na * c["ena"][:, None] + g_k * c["ek"][:, None]
    lam, kappa = c["gl"][:, None], c["gle"][:, None]
    if prob.hh_all:
        lam, kappa = lam + g_hh, kappa + drive
    else:
        zero = jnp.zeros(v.shape, v.dtype)
        lam = lam + zero.at[prob.hh].add(g_hh)
        kappa = kappa + zero.at[prob.hh].add(drive)
    return (m, h, nn), lam, kappa


def _synapses(c, prob, v, s, dt):
    """Synapse states advanced at ``v`` and their (lam, kappa) (n, B) terms."""
    syn = prob.syn
    v_pre = v[syn["pre"]]
    s_inf = 1.0 / (1.0 + jnp.exp((c["syn_v_th"][:, None] - v_pre) / c["syn_delta"][:, None]))
    decay = jnp.exp(-dt * c["syn_k_minus"][:, None] / (1.0 - s_inf))
    s = s * decay + s_inf * (1.0 - decay)
    g = c["syn_gS"][:, None] * s
    zero = jnp.zeros(v.shape, v.dtype)
    scale = c["syn_scale"][:, None]
    return s, zero.at[syn["post"]].add(g) * scale, \
        zero.at[syn["post"]].add(g * c["syn_e_syn"][:, None]) * scale


def _kernel(prob: FloorProblem, n_steps: int, delta_t, dtype, unroll):
    """``(step, initial, stim)`` of the floor: the scan body ``step(carry, i_t)``,
    ``initial(amp) -> carry`` (every state at its initial value, a batch of ``amp``) and the
    ``(n_steps, K)`` stimulus of the module's ``K`` stimuli (zero after they end)."""
    if not isinstance(n_steps, int) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive int, got {n_steps!r}")
    dtype = jnp.asarray(0.0).dtype if dtype is None else jnp.dtype(dtype)
    dt = float(delta_t)
    c = _constants(prob, dt, dtype)
    stim = np.zeros((prob.stim.shape[0], n_steps))
    k = min(n_steps, prob.stim.shape[1])
    stim[:, :k] = prob.stim[:, :k]
    stim = jnp.asarray(stim.T, dtype)  # (T, K)
    unroll = prob.n <= UNROLL_MAX if unroll is None else bool(unroll)
    solve = _hines_unrolled if unroll else _hines_scan
    parent = prob.parent
    lower, upper = ((list(c["lower"]), list(c["upper"])) if unroll
                    else (c["lower"], c["upper"]))

    def step(carry, i_t):
        v, gates, s, amp = carry
        gates, lam, kappa = _membrane(c, prob, v, gates, dt)
        if prob.syn is not None:
            s, syn_lam, syn_kappa = _synapses(c, prob, v, s, dt)
            lam, kappa = lam + syn_lam, kappa + syn_kappa
        if prob.stim_nodes.size:
            i_node = jnp.zeros(prob.n, dtype).at[prob.stim_nodes].add(i_t) * c["stim_scale"]
            kappa = kappa + i_node[:, None] * amp[None, :]
        dtc = c["dt_comp"][:, None]
        row_sums = jnp.where(dtc > 0, 1.0 + dtc * lam, 0.0)  # branch points: KCL, sum 0
        b = jnp.where(dtc > 0, v + dtc * kappa, 0.0)
        v = solve(parent, lower, upper, row_sums, b)
        return (v, gates, s, amp), v[prob.rec]

    def initial(amp):
        amp = jnp.asarray(amp, dtype)
        batch = amp.shape[0]

        def tile(x):
            return jnp.broadcast_to(jnp.asarray(x, dtype)[:, None], (len(x), batch))

        s0 = tile(prob.syn["s0"]) if prob.syn is not None else jnp.zeros((0, batch), dtype)
        return (tile(prob.v0), (tile(prob.m0), tile(prob.h0), tile(prob.n0)), s0, amp)

    return step, initial, stim


def floor_runner(prob: FloorProblem, n_steps: int, delta_t=0.025, dtype=None,
                 unroll: bool | None = None):
    """``run(amp) -> (B, R, n_steps + 1)`` recorded voltages (mV), jitted, one fused scan.

    ``amp``: (B,) factors of the module's stimuli (1.0: the module's own), the batch axis.
    ``dtype``: float32 or float64 (default: JAX's default float). ``unroll``: unrolled
    (True) or scanned (False) tree solve; None: unrolled up to ``UNROLL_MAX`` nodes.
    """
    step, initial, stim = _kernel(prob, n_steps, delta_t, dtype, unroll)

    @jax.jit
    def run(amp):
        carry = initial(amp)
        _, trace = jax.lax.scan(step, carry, stim)
        v0 = carry[0][prob.rec]
        return jnp.transpose(jnp.concatenate([v0[None], trace]), (2, 1, 0))

    return run


def floor_stepper(prob: FloorProblem, n_steps: int, delta_t=0.025, dtype=None,
                  unroll: bool | None = None):
    """The floor continued call after call, its state carried (as an env's periods are).

    Returns ``(initial, run)``: ``initial(amp) -> carry`` (jitted; ``amp`` as in
    :func:`floor_runner`) and ``run(carry) -> (carry, (R, B) recorded voltages at the last
    step)`` (jitted), each call ``n_steps`` steps with the module's stimuli applied from
    their first step again.
    """
    step, initial, stim = _kernel(prob, n_steps, delta_t, dtype, unroll)

    @jax.jit
    def run(carry):
        carry, trace = jax.lax.scan(step, carry, stim)
        return carry, trace[-1]

    return jax.jit(initial), run
