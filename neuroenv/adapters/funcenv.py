"""``NeuronFuncEnv``: a neuroenv env as a gymnasium ``FuncEnv`` (``FunctionalJaxEnv``).

::

    from gymnasium.envs.functional_jax_env import FunctionalJaxEnv
    func_env = NeuronFuncEnv(env)                       # env, params = neuroenv.make(...)
    gym_env = FunctionalJaxEnv(func_env, metadata=NeuronFuncEnv.metadata)
    gym_env = gymnasium.wrappers.TimeLimit(gym_env, int(params.max_steps_in_episode))
    # or simply: functional_jax_env(env)

Our env computes observation, reward and termination together in ``step_env``; the
``FuncEnv`` state (:class:`FuncState`) therefore carries the last ``(obs, reward,
terminated, info)`` next to the env state, and ``observation``/``reward``/``terminal``/
``transition_info`` read them from it. ``transition`` never resets and never truncates:
in gymnasium's functional API time limits are a ``TimeLimit`` wrapper (``FunctionalJaxEnv``
always returns ``truncated=False``). ``FunctionalJaxEnv`` never passes ``params``, so every
method defaults to the params given at construction (or the env's ``default_params``).
It converts reward and flags to Python scalars, one host sync per step: it is for
compatibility (``check_env``, ``gymnasium.utils.env_match``), not speed. Do not use
gymnasium's ``FunctionalJaxVectorEnv`` with it: its autoreset needs a single-array state
(``state.at[...]``), and :class:`FuncState` is a pytree; use ``neuroenv``'s own vector env.
"""

from __future__ import annotations

import functools

import chex
import gymnasium
import jax
import jax.numpy as jnp
from gymnasium.envs.functional_jax_env import FunctionalJaxEnv
from gymnasium.experimental.functional import FuncEnv

from neuroenv.params_validation import check_key, check_params
from neuroenv.render import period_record, render_env_frame


@chex.dataclass(frozen=True)
class FuncState:
    """State of :class:`NeuronFuncEnv` (a pytree).

    Attributes:
        env_state: the wrapped env's state (``neuroenv.EnvState``).
        obs: the observation of ``env_state`` (obs shape, float32).
        reward: reward of the transition into ``env_state`` (float32 scalar; 0 at reset).
        terminated: whether ``env_state`` is terminal (bool scalar; False at reset).
        info: ``info`` of the transition into ``env_state`` (zeros at reset).
    """

    env_state: object
    obs: jax.Array
    reward: jax.Array
    terminated: jax.Array
    info: dict


@functools.partial(jax.jit, static_argnums=0)
def _initial(env, rng, params) -> FuncState:
    obs, env_state = env.reset_env(rng, params)
    action = jnp.zeros(env.action_space(params).shape, env.action_space(params).dtype)
    _, _, reward, terminated, info = jax.eval_shape(env.step_env, rng, env_state, action,
                                                    params)
    zeros = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype),
                                   (reward, terminated, info))
    return FuncState(env_state=env_state, obs=obs, reward=zeros[0], terminated=zeros[1],
                     info=zeros[2])


@functools.partial(jax.jit, static_argnums=0)
def _transition(env, state, action, rng, params) -> FuncState:
    obs, env_state, reward, terminated, info = env.step_env(rng, state.env_state, action,
                                                            params)
    return FuncState(env_state=env_state, obs=obs, reward=reward, terminated=terminated,
                     info=info)


class NeuronFuncEnv(FuncEnv):
    """A neuroenv functional env as a ``gymnasium.experimental.functional.FuncEnv``.

    Observation, action, reward and termination are those of the wrapped env (for
    ``VoltageTarget-v0``: obs (window + 1,) float32 voltages and target in mV, action (1,)
    float32 in [-1, 1], reward a float32 scalar, terminated only on numerical blow-up).
    Episodes do not end by time here: add ``TimeLimit(max_episode_steps=
    params.max_steps_in_episode)`` (see :func:`functional_jax_env`).

    Args:
        env: a neuroenv functional env (``neuroenv.make(...)[0]``).
        params: its ``EnvParams`` (default ``env.default_params``); used whenever a method
            gets ``params=None``, which is always the case under ``FunctionalJaxEnv``.

    Attributes:
        observation_space, action_space: gymnasium ``Box`` es.
        metadata: the metadata to give ``FunctionalJaxEnv`` (``"jax": True`` makes
            ``check_env`` convert arrays with ``JaxToNumpy``, which needs array-api-compat).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30, "jax": True}
    #: (height, width) of rendered frames; periods shown by ``render_image``.
    render_size: tuple[int, int] = (240, 320)
    render_periods: int = 50

    def __init__(self, env, params=None) -> None:
        if not callable(getattr(env, "reset_env", None)):
            raise TypeError(f"env must be a neuroenv functional env (neuroenv.make(...)[0]), "
                            f"got {env!r}")
        if params is not None:
            check_params(env, params)
        self.env = env
        self._params = params
        super().__init__()  # sets self.default_params = self.get_default_params()
        self.observation_space = env.observation_space(self.default_params).to_gymnasium()
        self.action_space = env.action_space(self.default_params).to_gymnasium()

    def get_default_params(self, **kwargs):
        return self.env.default_params if self._params is None else self._params

    def _p(self, params):
        if params is None:
            return self.default_params
        check_params(self.env, params)
        return params

    def initial(self, rng, params=None) -> FuncState:
        """State of a new episode drawn with ``rng``."""
        check_key(rng, "rng")
        return _initial(self.env, rng, self._p(params))

    def transition(self, state: FuncState, action, rng, params=None) -> FuncState:
        """One control period from ``state`` (no reset, no truncation)."""
        check_key(rng, "rng")
        if not isinstance(state, FuncState):
            raise TypeError(f"state must be the FuncState of initial/transition, got "
                            f"{type(state).__name__}")
        return _transition(self.env, state, action, rng, self._p(params))

    def observation(self, state: FuncState, rng, params=None) -> jax.Array:
        """The observation of ``state``, drawn (with its noise) when the state was made."""
        return state.obs

    def reward(self, state: FuncState, action, next_state: FuncState, rng,
               params=None) -> jax.Array:
        return next_state.reward

    def terminal(self, state: FuncState, rng, params=None) -> jax.Array:
        return state.terminated

    def state_info(self, state: FuncState, params=None) -> dict:
        return {}

    def transition_info(self, state: FuncState, action, next_state: FuncState,
                        params=None) -> dict:
        """The wrapped env's step ``info`` (for ``NeuronEnv``: ``numerical_error``,
        ``current_nA``)."""
        return dict(next_state.info)

    # ------------------------------------------------------------------ rendering
    def render_init(self, params=None, **kwargs) -> dict:
        """Render state: the traces of the episode's last ``render_periods`` periods."""
        return {"traces": [], "time": -1}

    def render_image(self, state: FuncState, render_state: dict, params=None):
        """``(render_state, frame)``, frame an (H, W, 3) uint8 plot of the recent voltage."""
        env_state = jax.device_get(state.env_state)
        time = int(env_state.time)
        traces, last = render_state["traces"], render_state["time"]
        if time != last:  # a new period (or, if time went back, a new episode)
            traces = [] if time < last or time == 0 else traces
            traces = (traces + [period_record(self.env, env_state)])[-self.render_periods:]
        h, w = self.render_size
        frame = render_env_frame(self.env, traces, env_state, self._p(params), height=h,
                                 width=w)
        return {"traces": traces, "time": time}, frame

    def render_close(self, render_state: dict, params=None) -> None:
        render_state["traces"] = []


def functional_jax_env(env, params=None, render_mode: str | None = None):
    """``TimeLimit(FunctionalJaxEnv(NeuronFuncEnv(env, params)))``, a gymnasium env that
    returns JAX arrays and truncates after ``params.max_steps_in_episode`` periods."""
    func_env = NeuronFuncEnv(env, params)
    inner = FunctionalJaxEnv(func_env, metadata=dict(NeuronFuncEnv.metadata),
                             render_mode=render_mode)
    steps = int(func_env.default_params.max_steps_in_episode)
    return gymnasium.wrappers.TimeLimit(inner, max_episode_steps=steps)
