"""Simulations never return stale results (issue 12 B).

After every builder operation, ``integrate`` (and ``build_init_and_step_fn``, and an env) of a
module that was simulated *before* the operation equals the same call on a freshly built,
identical module; equal programs share one compilation.

The mutated and the fresh module run the same compiled program on the same values, so the
comparisons are bitwise (measured: max |Δ| = 0 in float64 and float32 for every case below).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simulator as jx
from simulator.channels import HH, Channel, Leak, Na
from simulator.integrate import _init, _run, _step
from simulator.synapses import IonotropicSynapse

T_MAX = 3.0  # ms; 121 steps of 0.025 ms
DT = 0.025


def _current(amplitude=0.3):
    return jx.step_current(0.5, 2.0, amplitude, DT, T_MAX)


def _cell():
    """Two branches of two compartments with HH, recorded and stimulated at the soma."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0])
    cell.insert(HH())
    cell.branch(0).comp(0).record("v", verbose=False)
    cell.branch(0).comp(0).stimulate(_current(), verbose=False)
    return cell


def _network():
    """Two one-compartment HH cells; cell 0 is driven to spike, cell 1 is recorded."""
    net = jx.Network([jx.Cell(), jx.Cell()])
    net.insert(HH())
    net.cell(0).stimulate(_current(0.5), verbose=False)
    net.cell(1).record("v", verbose=False)
    return net


def _swap_trainable(m):  # the issue's reproduction: same layout, other value
    m.delete_trainables()
    m.make_trainable("HH_gNa", 0.0, verbose=False)


def _restimulate(m):
    m.delete_stimuli()
    m.branch(1).comp(1).stimulate(_current(0.5), verbose=False)


def _rerecord(m):
    m.delete_recordings()
    m.branch(0).comp(0).record("HH_m", verbose=False)


def _clamp(m):
    m.branch(1).comp(1).clamp("v", jnp.full(int(T_MAX / DT) + 1, -40.0), verbose=False)


def _set_ncomp(m):  # set_ncomp refuses modules with recordings or inputs
    m.delete_recordings()
    m.delete_stimuli()
    m.branch(1).set_ncomp(4)
    m.branch(0).comp(0).record("v", verbose=False)
    m.branch(0).comp(0).stimulate(_current(), verbose=False)


def _trainable(m):
    m.make_trainable("HH_gNa", 0.2, verbose=False)


# name -> (prepare: applied to both modules first, operation: applied after a first run)
OPERATIONS = {
    "set": (None, lambda m: m.set("HH_gNa", 0.2)),
    "set_geometry": (None, lambda m: m.branch(0).set("radius", 3.0)),
    "insert": (None, lambda m: m.branch(0).insert(Na())),
    "delete": (None, lambda m: m.branch(0).delete("HH")),
    "make_trainable": (None, _trainable),
    "swap_trainables": (_trainable, _swap_trainable),
    "delete_trainables": (_trainable, lambda m: m.delete_trainables()),
    "record": (None, lambda m: m.branch(1).comp(1).record("v", verbose=False)),
    "delete_recordings": (None, _rerecord),
    "stimulate": (None, lambda m: m.branch(1).comp(1).stimulate(_current(0.5), verbose=False)),
    "delete_stimuli": (None, _restimulate),
    "clamp": (None, _clamp),
    "set_ncomp": (None, _set_ncomp),
}


def _build(prepare, operation=None, builder=_cell):
    module = builder()
    if prepare is not None:
        prepare(module)
    if operation is not None:
        operation(module)
    return module


def _max_diff(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    return float(np.max(np.abs(a - b)))


def _changed(before, after) -> bool:
    before, after = np.asarray(before), np.asarray(after)
    return before.shape != after.shape or np.max(np.abs(before - after)) > 1e-3


def test_issue_reproduction(x64):
    """The issue's reproduction, verbatim (before the fix: b == a bit for bit, 30 mV off)."""
    c = jx.Compartment(); c.insert(HH()); c.record(); c.stimulate(jx.step_current(1, 2, 0.1, 0.025, 10.0))  # noqa: E501, E702
    c.make_trainable("HH_gNa", 0.12); a = jx.integrate(c)  # noqa: E702
    c.delete_trainables(); c.make_trainable("HH_gNa", 0.0); b = jx.integrate(c)  # noqa: E702
    assert np.max(np.abs(np.asarray(a) - np.asarray(b))) > 10.0  # measured 30.05 mV
    np.testing.assert_array_equal(b, jx.integrate(c, c.get_parameters()))  # measured: equal


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_integrate_after_operation_equals_fresh_module(name, precision):
    prepare, operation = OPERATIONS[name]
    module = _build(prepare)
    before = jx.integrate(module, t_max=T_MAX)
    operation(module)
    after = jx.integrate(module, t_max=T_MAX)
    fresh = jx.integrate(_build(prepare, operation), t_max=T_MAX)
    assert _max_diff(after, fresh) == 0.0  # same program, same values: bitwise (measured)
    assert _changed(before, after)  # the operation matters, so a stale result would show


def test_connect_equals_fresh_network(precision):
    net = _network()
    before = jx.integrate(net, t_max=T_MAX)

    def connect(m):
        jx.connect(m.cell(0), m.cell(1), IonotropicSynapse())
        m.set("IonotropicSynapse_gS", 0.05)

    connect(net)
    after = jx.integrate(net, t_max=T_MAX)
    fresh = jx.integrate(_build(None, connect, _network), t_max=T_MAX)
    assert _max_diff(after, fresh) == 0.0  # bitwise (measured)
    assert _changed(before, after)


def test_data_set_and_data_stimulate_after_other_calls(precision):
    """``param_state`` / ``data_stimuli`` of a call never leak into the next call."""
    module = _cell()
    first = jx.integrate(module, t_max=T_MAX,
                         param_state=module.data_set("HH_gNa", 0.2, None))
    second = jx.integrate(module, t_max=T_MAX,
                          param_state=module.branch(1).data_set("HH_gK", 0.01, None))
    fresh = _cell()
    want = jx.integrate(fresh, t_max=T_MAX, param_state=fresh.branch(1).data_set("HH_gK", 0.01,
                                                                                 None))
    assert _max_diff(second, want) == 0.0  # bitwise (measured)
    fresh.branch(1).set("HH_gK", 0.01)
    # data_set and set write the same values into the same arrays: measured max |Δ| = 0.
    assert _max_diff(second, jx.integrate(fresh, t_max=T_MAX)) == 0.0
    assert _changed(first, second)

    stimulus = module.branch(1).comp(1).data_stimulate(_current(0.5))
    driven = jx.integrate(module, t_max=T_MAX, data_stimuli=stimulus)
    plain = jx.integrate(module, t_max=T_MAX)
    fresh = _cell()
    fresh.branch(1).comp(1).stimulate(_current(0.5), verbose=False)
    assert _max_diff(driven, jx.integrate(fresh, t_max=T_MAX)) == 0.0  # bitwise (measured)
    assert _max_diff(plain, jx.integrate(_cell(), t_max=T_MAX)) == 0.0  # bitwise (measured)
    assert _changed(driven, plain)


class _Scaled(Channel):
    """A leak whose conductance factor is a Python attribute, read while tracing."""

    def __init__(self, scale: float, name: str | None = None):
        super().__init__(name)
        self.scale = scale
        self.channel_params = {}
        self.channel_states = {}
        self.current_name = "i_Scaled"

    def update_states(self, states, dt, v, params):
        return {}

    def compute_current(self, states, v, params):
        return self.scale * 1e-3 * (v + 65.0)


def test_channel_attributes_are_part_of_the_program(x64):
    """A channel changed in place, or an equal-looking channel with another attribute, is
    never run with a program compiled for the old attribute."""
    def build(channel):
        comp = jx.Compartment()
        comp.insert(channel)
        comp.record(verbose=False)
        comp.stimulate(_current(), verbose=False)
        return comp

    channel = _Scaled(1.0)
    comp = build(channel)
    weak = jx.integrate(comp, t_max=T_MAX)
    channel.scale = 5.0
    strong = jx.integrate(comp, t_max=T_MAX)
    assert _changed(weak, strong)
    assert _max_diff(strong, jx.integrate(build(_Scaled(5.0)), t_max=T_MAX)) == 0.0
    assert _max_diff(weak, jx.integrate(build(_Scaled(1.0)), t_max=T_MAX)) == 0.0


def _step_run(module, n_steps=60, params=()):
    """init_fn + ``n_steps`` step_fn calls driven by the module's stimulus; (n_steps + 1,
    n_recordings) recorded values."""
    init_fn, step_fn = jx.build_init_and_step_fn(module)
    states, all_params = init_fn(list(params))
    rec = module.recordings
    sites = list(zip(rec["state"], rec["rec_index"], strict=True))
    externals = {k: np.asarray(v) for k, v in module.externals.items()}
    trace = [[states[s][i] for s, i in sites]]
    for t in range(n_steps):
        states = step_fn(states, all_params, {k: v[:, t] for k, v in externals.items()})
        trace.append([states[s][i] for s, i in sites])
    return np.asarray(trace)


@pytest.mark.parametrize("name", ["set", "insert", "swap_trainables", "delete_stimuli",
                                  "clamp", "set_ncomp"])
def test_step_fn_after_operation_equals_fresh_module(name, x64):
    prepare, operation = OPERATIONS[name]
    module = _build(prepare)
    before = _step_run(module)
    operation(module)
    after = _step_run(module)
    assert _max_diff(after, _step_run(_build(prepare, operation))) == 0.0  # bitwise (measured)
    assert _changed(before, after)
    # The same values as integrate's first steps (the same step, compiled into a scan there):
    # measured max |Δ| = 0 except 7.3e-12 mV during the spike of "delete_stimuli".
    np.testing.assert_allclose(after.T, np.asarray(jx.integrate(module, t_max=T_MAX))[:, :61],
                               rtol=0, atol=1e-10)


def test_init_fn_reads_the_module_when_built(x64):
    """``init_fn([])`` gives the trainables' values at build time, whatever happens to the
    module or to the jit cache later (before the fix, a retrace read the mutated module)."""
    comp = jx.Compartment()
    comp.insert(HH())
    comp.make_trainable("HH_gNa", 0.12, verbose=False)
    init_fn, _ = jx.build_init_and_step_fn(comp)
    _, built = init_fn([])
    comp.delete_trainables()
    comp.make_trainable("HH_gNa", 0.0, verbose=False)
    _, same_trace = init_fn([])
    _, retraced = init_fn([], delta_t=np.float32(0.025))  # another input type: a new trace
    for params in (same_trace, retraced):
        assert float(params["HH_gNa"][0]) == 0.12
    _, rebuilt = jx.build_init_and_step_fn(comp)[0]([])
    assert float(rebuilt["HH_gNa"][0]) == 0.0
    assert float(built["HH_gNa"][0]) == 0.12


def test_env_of_mutated_module_runs_the_new_module(x64):
    """An env reads its module when built; a new env of the mutated module runs the new
    module's dynamics (no compilation of the first env is reused for it)."""
    from neuroenv.neuron_env import NeuronEnv
    from neuroenv.tasks.voltage_target import VoltageTarget

    def make(module):
        module.record("v", verbose=False)
        return NeuronEnv(module, [module], VoltageTarget(), substeps=4,
                         max_steps_in_episode=5)

    def rollout(env):
        params = env.default_params
        obs, state = env.reset(jax.random.PRNGKey(0), params)
        out = [np.asarray(obs)]
        for _ in range(3):
            obs, state, *_ = env.step(jax.random.PRNGKey(1), state, jnp.ones(1), params)
            out.append(np.asarray(obs))
        return np.asarray(out)

    def plain():
        comp = jx.Compartment()
        comp.insert(HH())
        return comp

    def mutate(comp):
        comp.insert(Leak())
        comp.set("Leak_gLeak", 0.01)
        comp.set("HH_gNa", 0.0)

    module = plain()
    first_env = make(module)
    first = rollout(first_env)
    mutate(module)
    second = rollout(make(module))
    fresh = plain()
    mutate(fresh)
    assert _max_diff(second, rollout(make(fresh))) == 0.0  # bitwise (measured)
    assert _changed(first, second)
    # The first env keeps the module as it was when the env was built: measured max |Δ| = 0.
    assert _max_diff(rollout(first_env), first) == 0.0


def test_identical_modules_and_new_values_reuse_one_compilation(x64):
    """Two identical modules, or one module with new values, run one compiled program."""
    def build():
        comp = jx.Compartment()
        comp.insert(HH().change_name("HHreuse"))  # a structure no other test compiles
        comp.record(verbose=False)
        comp.stimulate(_current(), verbose=False)
        comp.make_trainable("HHreuse_gK", verbose=False)
        return comp

    first = build()
    jx.integrate(first)
    size = _run._cache_size()
    second = build()
    a = jx.integrate(second)
    second.set("HHreuse_gNa", 0.2)
    b = jx.integrate(second)
    c = jx.integrate(second, [{"HHreuse_gK": jnp.asarray([0.01])}])
    d = jx.integrate(second, delta_t=0.02)  # same number of steps (from the stimulus)
    assert _run._cache_size() == size
    assert _changed(a, b) and _changed(b, c) and _changed(b, d)

    init_fn, step_fn = jx.build_init_and_step_fn(first)
    states, params = init_fn([])
    step_fn(states, params, {"i": jnp.zeros(1)})
    sizes = _init._cache_size(), _step._cache_size()
    init_fn, step_fn = jx.build_init_and_step_fn(second)
    states, params = init_fn([])
    step_fn(states, params, {"i": jnp.zeros(1)})
    assert (_init._cache_size(), _step._cache_size()) == sizes
    # A new structure does compile (so the counts above can change).
    third = build()
    third.insert(Leak())
    jx.integrate(third)
    assert _run._cache_size() == size + 1


def test_compiled_programs_do_not_hold_the_module(x64):
    """The jit caches keep neither the module nor the user's channel objects alive."""
    import gc
    import weakref

    channel = HH()
    module = _cell_with(channel)
    jx.integrate(module, t_max=T_MAX)
    init_fn, step_fn = jx.build_init_and_step_fn(module)
    states, params = init_fn([])
    step_fn(states, params, {"i": jnp.zeros(1)})
    refs = weakref.ref(module), weakref.ref(channel)
    del module, channel, init_fn, step_fn, states, params
    gc.collect()
    assert refs[0]() is None and refs[1]() is None


def _cell_with(channel):
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0])
    cell.insert(channel)
    cell.branch(0).comp(0).record("v", verbose=False)
    cell.branch(0).comp(0).stimulate(_current(), verbose=False)
    return cell
