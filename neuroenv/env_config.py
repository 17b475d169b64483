"""The constructor arguments of :class:`~neuroenv.neuron_env.NeuronEnv`, checked and
resolved: modes, scalars, stimulation/drive sites and the randomised parameters."""

from __future__ import annotations

from neuroenv.params_validation import check_env_scalar
from neuroenv.validation import Range, check_range, positive_int, real_number
from simulator.assemble import DERIVED
from simulator.physical_range import check_nonsingular_module

#: Pulse shapes of an action within a control period.
PULSES = ("constant", "biphasic")
#: What the observation shows of the recordings.
OBSERVE_MODES = ("all", "mean", "none")
#: Units of the observation: O(1) scaled entries (default) or physical units.
OBS_UNITS = ("scaled", "physical")


def _is_conductance(name: str) -> bool:
    """``<Channel>_g<...>``: a channel's maximal conductance (e.g. ``HH_gNa``)."""
    prefix, _, rest = name.partition("_")
    return bool(prefix) and rest.startswith("g")


def site_nodes(base, sites, what: str) -> list[int]:
    """Compartment index of each view in ``sites`` (one compartment of ``base`` each)."""
    nodes = []
    for site in sites:
        inds = site._node_inds if getattr(site, "base", None) is base else None
        if inds is None or len(inds) != 1:
            raise ValueError(
                f"each {what} site must be one compartment of the module (e.g."
                f" cell.branch(0).loc(0.5)); got {site!r}"
            )
        nodes.append(int(inds[0]))
    return nodes


def check_config(base, *, obs_units: str, substeps: int, window: int, delta_t: float,
                 pulse: str, observe: str, scalars: dict) -> None:
    """``ValueError``/``TypeError`` naming the argument unless the module ``base`` has
    recordings and no inputs of its own, and the modes, ``substeps``, ``window``,
    ``delta_t`` (ms) and the ``EnvParams`` ``scalars`` (name -> value) are valid."""
    if obs_units not in OBS_UNITS:
        raise ValueError(f"obs_units must be one of {OBS_UNITS}, got {obs_units!r}")
    if len(base.recordings) == 0:
        raise ValueError("the module has no recordings: record() what the agent observes")
    check_nonsingular_module(base, "NeuronEnv")  # radius, length, ... <= 0
    if base.externals:
        raise ValueError(
            f"the module already has inputs {sorted(base.externals)}; the env injects the"
            " actions at stim_sites: delete_stimuli()/delete_clamps() first"
        )
    for name, value in (("substeps", substeps), ("window", window)):
        positive_int(name, value)
    check_range(Range(0.0, low_open=True, units="ms"), "delta_t",
                real_number("delta_t", delta_t))
    if pulse not in PULSES:
        raise ValueError(f"pulse must be one of {PULSES}, got {pulse!r}")
    if pulse == "biphasic" and substeps % 2:
        raise ValueError(f"a biphasic pulse needs an even number of substeps, got {substeps}")
    if observe not in OBSERVE_MODES:
        raise ValueError(f"observe must be one of {OBSERVE_MODES}, got {observe!r}")
    for name, value in scalars.items():
        check_env_scalar(name, value)


def randomized_names(randomize, params0: dict, active: bool = True) -> tuple[str, ...]:
    """The ``params.sim`` names scaled by domain randomisation and drift: ``randomize``
    (default ``None``: every channel conductance of ``params0`` if ``active`` — the env
    is built with a nonzero ``param_spread`` or ``param_drift`` — else none), checked to name
    primary simulator parameters.

    Without randomisation the simulator parameters are the same for every env of a batch;
    scaled per episode they become per-env arrays, which costs a batched rollout in float64
    about 30 % (VoltageTarget ×1,024: 742 vs 570 ns per solver step), so a base env scales
    nothing."""
    if randomize is None:
        randomize = tuple(k for k in params0 if _is_conductance(k)) if active else ()
    if isinstance(randomize, str) or not all(isinstance(k, str) for k in randomize):
        raise ValueError(f"randomize must be a sequence of parameter names (e.g."
                         f" ('radius', 'HH_gNa')), got {randomize!r}")
    derived = [k for k in randomize if k in DERIVED]
    if derived:
        raise ValueError(
            f"randomize names {derived}, which the simulator derives from radius, length,"
            " axial_resistivity and capacitance in every step; randomize those instead")
    unknown = [k for k in randomize if k not in params0]
    if unknown:
        raise ValueError(f"randomize names {unknown} that are not simulator parameters; "
                         f"known: {sorted(params0)}")
    return tuple(randomize)
