"""Signal processing that a closed-loop device runs on its sensed signals, in pure JAX.

Filters are designed at build time with ``scipy.signal`` and run causally in JAX with
explicit state (a pytree the env carries): jittable, and vmappable over envs and channels.
Blocks are ``(..., n_channels, n_samples)`` (time last, as recordings are).
"""

from neuroenv.sensing.biquad import SosFilter, sos_block, sos_step
from neuroenv.sensing.chain import ChainState, SensorChain
from neuroenv.sensing.decimate import DEFAULT_FS_OUT, block_average, decimation_factor
from neuroenv.sensing.delay import DelayLine
from neuroenv.sensing.design import butter_bandpass, butter_lowpass
from neuroenv.sensing.envelope import Envelope
from neuroenv.sensing.spikes import SpikeDetector, SpikeState, noise_sigma

__all__ = [
    "DEFAULT_FS_OUT",
    "ChainState",
    "DelayLine",
    "Envelope",
    "SensorChain",
    "SosFilter",
    "SpikeDetector",
    "SpikeState",
    "block_average",
    "butter_bandpass",
    "butter_lowpass",
    "decimation_factor",
    "noise_sigma",
    "sos_block",
    "sos_step",
]
