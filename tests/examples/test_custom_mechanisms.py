"""Runs ``examples/custom_mechanisms.py`` and checks what it prints and returns."""

from __future__ import annotations

import contextlib
import io
import pathlib
import runpy

import numpy as np
import pytest

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "custom_mechanisms.py"


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The example's namespace, plus one run of its ``main`` (results, stdout, figure path)."""
    ns = runpy.run_path(str(EXAMPLE), run_name="custom_mechanisms_example")
    figure = tmp_path_factory.mktemp("custom_mechanisms") / "custom_mechanisms.png"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        results = ns["main"](["--out", str(figure)])
    return ns, results, buf.getvalue(), figure


def test_main_guard_present():
    # ``python examples/custom_mechanisms.py`` must run main().
    assert 'if __name__ == "__main__":\n    main()' in EXAMPLE.read_text()


def test_traces_are_finite_and_plausible(example):
    _, results, _, _ = example
    for key in ("v_hh", "v_hh_ka", "i_ka", "v_pre", "v_post", "s_syn", "v_post_control"):
        trace = np.asarray(results[key])
        assert trace.ndim == 1 and trace.size == int(60.0 / 0.025) + 1, key
        assert np.all(np.isfinite(trace)), key
    for key in ("v_hh", "v_hh_ka", "v_pre", "v_post", "v_post_control"):
        assert -100.0 < results[key].min() and results[key].max() < 60.0, key
    assert 0.0 <= results["s_syn"].min() and results["s_syn"].max() <= 1.0


def test_channel_changes_firing(example):
    _, results, _, _ = example
    hh, ka = results["spikes_hh"], results["spikes_hh_ka"]
    assert len(hh) >= 2 and len(ka) >= 1
    assert ka[0] > hh[0]  # the A-current delays the first spike
    assert len(ka) <= len(hh)
    assert results["i_ka"].max() > 0.0  # outward potassium current
    # It hyperpolarises the cell at rest (window current) before the stimulus at 10 ms.
    before = int(10.0 / 0.025)
    assert results["v_hh_ka"][before] < results["v_hh"][before] - 1.0


def test_synapse_depolarises_post_cell(example):
    _, results, _, _ = example
    control = results["v_post_control"]
    # Zero weight: the post cell stays at rest, no spikes.
    assert len(results["spikes_post_control"]) == 0
    assert np.ptp(control) < 1.0
    # With the synapse it is driven well above the control and fires after the pre cell.
    assert results["v_post"].max() > control.max() + 20.0
    assert len(results["spikes_post"]) >= 1
    assert results["spikes_post"][0] > results["spikes_pre"][0]
    assert results["s_syn"].max() > 0.5


def test_printed_summary(example):
    _, results, text, figure = example
    assert "(a) custom channel KA" in text and "(b) custom FirstOrderSynapse" in text
    assert "nan" not in text.lower()
    assert f"{len(results['spikes_post'])} spikes" in text
    if results["figure"] is not None:
        assert figure.is_file() and figure.stat().st_size > 1000
        assert f"figure: {figure}" in text
    else:
        assert "matplotlib is not installed" in text


def test_channel_contract(example):
    ns = example[0]
    ka = ns["KA"]()
    ka._validate()
    assert ka.current_name == "i_KA"
    assert "eK" in ka.channel_params  # shared, unprefixed
    v = np.array([-80.0, -65.0, -40.0, 0.0])
    params = {k: np.full(4, val) for k, val in ka.channel_params.items()}
    states = {k: np.full(4, val) for k, val in ka.channel_states.items()}
    steady = ka.init_state(states, v, params, 0.025)
    assert set(steady) == {"KA_a", "KA_b"}
    for gate in steady.values():
        assert np.all((np.asarray(gate) >= 0.0) & (np.asarray(gate) <= 1.0))
    # A long step relaxes the gates to their steady state; the current is zero at eK.
    relaxed = ka.update_states(states, 1e3, v, params)
    for key in steady:
        np.testing.assert_allclose(relaxed[key], steady[key], rtol=1e-5, atol=1e-6)
    i_at_ek = ka.compute_current(steady, np.full(4, -77.0), params)
    np.testing.assert_allclose(i_at_ek, 0.0, atol=1e-12)
    # change_name renames the prefixed keys only, and the methods follow the new name.
    ka.change_name("KA2")
    assert set(ka.channel_params) == {"KA2_gKA", "eK"}
    assert set(ka.init_state({}, v, params, 0.025)) == {"KA2_a", "KA2_b"}


def test_synapse_contract(example):
    ns = example[0]
    syn = ns["FirstOrderSynapse"]()
    syn._validate()
    assert syn.current_name == "i_FirstOrderSynapse"
    params = {k: np.full(2, val) for k, val in syn.synapse_params.items()}
    s0 = {"FirstOrderSynapse_s": np.zeros(2)}
    v_pre = np.array([-65.0, 30.0])  # at rest / spiking
    v_post = np.full(2, -65.0)
    s1 = syn.update_states(s0, 0.5, v_pre, v_post, params)["FirstOrderSynapse_s"]
    assert s1[0] < 1e-3 < 0.1 < s1[1] <= 1.0  # release only while the pre cell spikes
    current = syn.compute_current({"FirstOrderSynapse_s": s1}, v_pre, v_post, params)
    assert current[1] < 0.0  # excitatory: inward (negative) at rest
