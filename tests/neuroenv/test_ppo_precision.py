"""``neuroenv.ppo`` under float64: a clear error before rejax fails inside its scan."""

from __future__ import annotations

import jax
import pytest

import neuroenv


def test_ppo_refuses_x64_with_the_fix_named():
    """Without the check, rejax's PPO failed after tracing with "scan body function carry
    input and carry output must have equal types" (obs_rms_state float32 vs float64)."""
    pytest.importorskip("rejax")
    from neuroenv import ppo

    with jax.enable_x64(True):
        env, params = neuroenv.make("VoltageTarget-v0")
        with pytest.raises(RuntimeError, match="jax_enable_x64 off"):
            ppo.train(env, params, 2048, progress=False)
