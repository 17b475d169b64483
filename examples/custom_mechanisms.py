"""How to write your own channel and synapse.

A *channel* is a membrane mechanism that lives in compartments. Subclass
``simulator.channels.Channel``, call ``super().__init__(name)`` and define three attributes:

* ``channel_params``: default parameters, a dict of floats. Keys that start with the channel's
  name and an underscore (``"KA_gKA"``) belong to this channel alone; keys without that prefix
  (``"eK"``) are shared with every other channel that uses the same key, so one
  ``cell.set("eK", -80.0)`` changes all of them. Conductances are in S/cm², potentials in mV.
* ``channel_states``: default states (gates, dimensionless), with the same prefix rule.
* ``current_name``: the name the membrane current is recorded under, e.g. ``"i_KA"``.

Then implement three pure ``jax.numpy`` methods. Each gets arrays of shape ``(n,)``, one
entry per compartment that has the channel. They are traced, vectorised and differentiated,
so they must not branch in Python on array values:

* ``update_states(states, dt, v, params) -> dict`` returns the states after one step of ``dt``
  ms, given the voltage ``v`` (mV) at the start of the step. ``simulator.solvers.gates`` has
  the exact exponential gate updates (``solve_inf_gate_exponential(x, dt, x_inf, tau)`` and
  ``solve_gate_exponential(x, dt, alpha, beta)``).
* ``compute_current(states, v, params)`` returns the current density in **mA/cm²**, outward
  positive. The simulator evaluates it at ``v`` and ``v + 1e-3`` mV to linearise it for the
  implicit voltage solver.
* ``init_state(states, v, params, delta_t) -> dict`` (optional) returns the steady-state
  values at ``v``; ``module.init_states()`` uses it.

Inside the methods, build keys from ``self.name`` (not from a literal), so that
``change_name`` keeps working. ``params`` also holds ``radius``, ``length``,
``axial_resistivity`` and ``capacitance`` of each compartment.

A *synapse* couples a pre-synaptic compartment to a post-synaptic one. Subclass
``simulator.synapses.Synapse``, call ``super().__init__(name)`` and define
``synapse_params`` and ``synapse_states`` (prefixed with the name as above; conductances in
µS, voltages in mV, rates in 1/ms). Implement

* ``update_states(states, delta_t, pre_voltage, post_voltage, params) -> dict``, and
* ``compute_current(states, pre_voltage, post_voltage, params)``: the current in **nA** out
  of the post-synaptic compartment (outward positive, so an excitatory synapse gives a
  negative current at rest), linearised in ``post_voltage`` like a channel current.

Every array has one entry per synapse of that type. Connect cells of a ``Network`` with
``jx.connect``, ``jx.fully_connect``, ``jx.sparse_connect`` or
``jx.connectivity_matrix_connect``; the synapse's parameters are then set, recorded and
trained like any other (``net.set("FirstOrderSynapse_gS", ...)``).

This example defines an A-type potassium channel ``KA`` (Connor–Stevens kinetics), inserts it
next to ``HH`` and shows that it delays the first spike, then defines a first-order kinetic
synapse and shows that it excites the post-synaptic cell of a two-cell network, against a
zero-weight control.

Run: ``python examples/custom_mechanisms.py [--out custom_mechanisms.png] [--no-plot]``.
"""

from __future__ import annotations

import argparse

import numpy as np

import simulator as jx
from simulator.channels import HH, Channel
from simulator.solvers.gates import save_exp, solve_inf_gate_exponential
from simulator.synapses import Synapse

DT = 0.025  # ms
T_MAX = 60.0  # ms
V_INIT = -65.0  # mV, the resting potential of HH
I_AMP = 0.01  # nA, ~16 µA/cm² into a default point cell (area 62.8 µm²)
G_SYN = 5e-4  # µS


# --------------------------------------------------------------------------- (a) a channel

class KA(Channel):
    """A-type (transient) potassium current of the Connor–Stevens model.

    ``I = gKA a³ b (v − eK)`` with activation ``a`` and inactivation ``b``; the kinetics are
    those of Dayan & Abbott, *Theoretical Neuroscience* (2001), section 6.2.
    Parameters: ``KA_gKA`` (S/cm²) and the shared reversal potential ``eK`` (mV).
    States: ``KA_a``, ``KA_b``.
    """

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self.name
        self.channel_params = {f"{p}_gKA": 0.01, "eK": -77.0}
        self.channel_states = {f"{p}_a": 0.1, f"{p}_b": 0.5}
        self.current_name = f"i_{p}"

    @staticmethod
    def a_gate(v):
        """Steady state (dimensionless) and time constant (ms) of the activation."""
        a_inf = (0.0761 * save_exp((v + 94.22) / 31.84)
                 / (1.0 + save_exp((v + 1.17) / 28.93))) ** (1.0 / 3.0)
        tau = 0.3632 + 1.158 / (1.0 + save_exp((v + 55.96) / 20.12))
        return a_inf, tau

    @staticmethod
    def b_gate(v):
        """Steady state and time constant (ms) of the inactivation."""
        b_inf = (1.0 / (1.0 + save_exp((v + 53.3) / 14.54))) ** 4
        tau = 1.24 + 2.678 / (1.0 + save_exp((v + 50.0) / 16.027))
        return b_inf, tau

    def update_states(self, states, dt, v, params):
        p = self.name
        return {
            f"{p}_a": solve_inf_gate_exponential(states[f"{p}_a"], dt, *self.a_gate(v)),
            f"{p}_b": solve_inf_gate_exponential(states[f"{p}_b"], dt, *self.b_gate(v)),
        }

    def compute_current(self, states, v, params):
        p = self.name
        a, b = states[f"{p}_a"], states[f"{p}_b"]
        return params[f"{p}_gKA"] * a**3 * b * (v - params["eK"])  # mA/cm², outward +

    def init_state(self, states, v, params, delta_t):
        p = self.name
        return {f"{p}_a": self.a_gate(v)[0], f"{p}_b": self.b_gate(v)[0]}


# --------------------------------------------------------------------------- (b) a synapse

class FirstOrderSynapse(Synapse):
    """First-order kinetic synapse: transmitter released by a sigmoid of ``v_pre``.

    ``ds/dt = alpha T(v_pre) (1 − s) − beta s`` with ``T = 1 / (1 + exp(−(v_pre − v_half) /
    slope))``; ``I = gS s (v_post − e_syn)`` in nA (gS in µS). The rise (``alpha``, 1/ms) is
    fast while the pre cell spikes, the decay (``beta``, 1/ms) sets the EPSP's length.
    """

    def __init__(self, name: str | None = None):
        super().__init__(name)
        p = self.name
        self.synapse_params = {f"{p}_gS": 5e-4, f"{p}_e_syn": 0.0, f"{p}_alpha": 2.0,
                               f"{p}_beta": 0.2, f"{p}_v_half": -20.0, f"{p}_slope": 5.0}
        self.synapse_states = {f"{p}_s": 0.0}

    def update_states(self, states, delta_t, pre_voltage, post_voltage, params):
        p = self.name
        release = 1.0 / (1.0 + save_exp(-(pre_voltage - params[f"{p}_v_half"])
                                        / params[f"{p}_slope"]))
        rate = params[f"{p}_alpha"] * release + params[f"{p}_beta"]
        s_inf = params[f"{p}_alpha"] * release / rate
        return {f"{p}_s": solve_inf_gate_exponential(states[f"{p}_s"], delta_t, s_inf,
                                                     1.0 / rate)}

    def compute_current(self, states, pre_voltage, post_voltage, params):
        p = self.name
        return params[f"{p}_gS"] * states[f"{p}_s"] * (post_voltage - params[f"{p}_e_syn"])


# --------------------------------------------------------------------------- simulations

def spike_times(v, threshold=0.0):
    """Times (ms) of the upward crossings of ``threshold`` in a trace sampled every DT."""
    v = np.asarray(v)
    up = np.flatnonzero((v[1:] >= threshold) & (v[:-1] < threshold)) + 1
    return up * DT


def simulate_cell(with_ka: bool):
    """One point cell with HH (and KA), a 40 ms step current; returns (v, i_KA or None)."""
    cell = jx.Cell()
    cell.insert(HH())
    if with_ka:
        cell.insert(KA())
        cell.set("eK", -77.0)  # the shared parameter, set once for every channel using it
    cell.set("v", V_INIT)
    cell.init_states()  # every gate at its steady state at V_INIT (calls KA.init_state)
    cell.stimulate(jx.step_current(10.0, 40.0, I_AMP, DT, T_MAX), verbose=False)
    cell.record("v", verbose=False)
    if with_ka:
        cell.record("i_KA", verbose=False)
    out = np.asarray(jx.integrate(cell, t_max=T_MAX, delta_t=DT))
    return out[0], (out[1] if with_ka else None)


def simulate_pair(g_syn: float):
    """Pre cell driven to spike, post cell only by the synapse; returns (v_pre, v_post, s)."""
    cell = jx.Cell()
    net = jx.Network([cell, cell])
    net.insert(HH())
    jx.connect(net.cell(0), net.cell(1), FirstOrderSynapse())
    net.set("FirstOrderSynapse_gS", g_syn)
    net.set("v", V_INIT)
    net.init_states()
    net.cell(0).stimulate(jx.step_current(10.0, 40.0, I_AMP, DT, T_MAX), verbose=False)
    net.cell([0, 1]).record("v", verbose=False)
    net.FirstOrderSynapse.record("FirstOrderSynapse_s", verbose=False)
    out = np.asarray(jx.integrate(net, t_max=T_MAX, delta_t=DT))
    return out[0], out[1], out[2]


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.arange(len(results["v_hh"])) * DT
    fig, axes = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    axes[0].plot(t, results["v_hh"], label="HH")
    axes[0].plot(t, results["v_hh_ka"], label="HH + KA")
    axes[0].set_ylabel("v (mV)")
    axes[0].set_title("(a) custom channel: the A-current delays spikes and slows firing")
    axes[0].legend(loc="upper right")
    axes[1].plot(t, results["v_pre"], color="0.6", label="pre")
    axes[1].plot(t, results["v_post"], label="post")
    axes[1].plot(t, results["v_post_control"], "--", label="post, gS = 0")
    axes[1].set_xlabel("time (ms)")
    axes[1].set_ylabel("v (mV)")
    axes[1].set_title("(b) custom synapse: pre → post")
    axes[1].legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> dict:
    """Run both demonstrations, print a summary and (optionally) save the figure.

    Returns the traces (``v_hh``, ``v_hh_ka``, ``i_ka``, ``v_pre``, ``v_post``, ``s_syn``,
    ``v_post_control``), the spike times (``spikes_*``) and ``figure`` (path or None).
    """
    ap = argparse.ArgumentParser(description="Custom channel and synapse example.")
    ap.add_argument("--out", default="custom_mechanisms.png", help="figure path")
    ap.add_argument("--no-plot", action="store_true", help="do not write the figure")
    args = ap.parse_args(argv)

    v_hh, _ = simulate_cell(with_ka=False)
    v_hh_ka, i_ka = simulate_cell(with_ka=True)
    v_pre, v_post, s = simulate_pair(g_syn=G_SYN)
    _, v_post_control, _ = simulate_pair(g_syn=0.0)
    results = dict(v_hh=v_hh, v_hh_ka=v_hh_ka, i_ka=i_ka, v_pre=v_pre, v_post=v_post,
                   s_syn=s, v_post_control=v_post_control)
    for key in ("v_hh", "v_hh_ka", "v_pre", "v_post", "v_post_control"):
        results[key.replace("v_", "spikes_", 1)] = spike_times(results[key])

    def describe(v, spikes):
        first = f", first at {spikes[0]:5.2f} ms" if len(spikes) else ""
        isi = f", mean ISI {np.diff(spikes).mean():5.2f} ms" if len(spikes) > 1 else ""
        return f"{len(spikes)} spikes{first}{isi}, peak v {v.max():6.2f} mV"

    before = int(10.0 / DT)  # the sample just before the stimulus starts
    print(f"(a) custom channel KA (A-type K+): point cell, {I_AMP} nA from 10 to 50 ms")
    print(f"    HH      : {describe(v_hh, results['spikes_hh'])}; "
          f"v at 10 ms {v_hh[before]:.2f} mV")
    print(f"    HH + KA : {describe(v_hh_ka, results['spikes_hh_ka'])}; "
          f"v at 10 ms {v_hh_ka[before]:.2f} mV; peak i_KA {i_ka.max():.4f} mA/cm²")
    print(f"(b) custom FirstOrderSynapse, cell 0 -> cell 1 (pre driven by {I_AMP} nA)")
    print(f"    {'pre':16s}: {describe(v_pre, results['spikes_pre'])}; peak s {s.max():.3f}")
    print(f"    {f'post, gS {G_SYN:g}':16s}: {describe(v_post, results['spikes_post'])}")
    print(f"    {'post, gS 0':16s}: {describe(v_post_control, results['spikes_post_control'])}")
    print(f"    synapse depolarises post by {v_post.max() - v_post_control.max():.2f} mV "
          "at the peak (vs the zero-weight control)")
    results["figure"] = None
    if not args.no_plot:
        try:
            plot(results, args.out)
        except ImportError:
            print("matplotlib is not installed: no figure")
        else:
            results["figure"] = args.out
            print(f"figure: {args.out}")
    return results


if __name__ == "__main__":
    main()
