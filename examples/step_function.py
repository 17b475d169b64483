"""Step-by-step simulation with ``build_init_and_step_fn``.

The example of the reference's API page, unchanged except for the imports (and the name
``states`` in the first recording, which the page misspells ``all_states``).
Run: ``python examples/step_function.py``.
"""

import jax.numpy as jnp

import simulator as jx
from simulator.integrate import build_init_and_step_fn

t_max = 3.0
delta_t = 0.025

cell = jx.Cell()
cell.record()
cell.stimulate(jx.step_current(0, 1, 2, delta_t, t_max))
params = cell.get_parameters()

cell.to_jax()
rec_inds = cell.recordings.rec_index.to_numpy()
rec_states = cell.recordings.state.to_numpy()
externals = cell.externals.copy()
external_inds = cell.external_inds.copy()

# Uncomment this line if `data_stimuli` is not `None`.
# externals, external_inds = add_stimuli(externals, external_inds, data_stimuli)

# Uncomment this line if `data_clamps` is not `None`.
# externals, external_inds = add_clamps(externals, external_inds, data_clamps)

# Initialize.
init_fn, step_fn = build_init_and_step_fn(cell)
states, params = init_fn(params)
recordings = [jnp.asarray(
    [
        states[rec_state][rec_ind]
        for rec_state, rec_ind in zip(rec_states, rec_inds)
    ]
)]

# Loop over the ODE. The `step_fn` can be jitted for improving speed.
steps = int(t_max / delta_t)  # Steps to integrate
for step in range(steps):
    # Get externals at current timestep.
    externals_now = {}
    for key in externals.keys():
        externals_now[key] = externals[key][:, step]

    states = step_fn(
        states, params, externals_now, external_inds, delta_t=delta_t
    )
    recs = jnp.asarray(
        [
            states[rec_state][rec_ind]
            for rec_state, rec_ind in zip(rec_states, rec_inds)
        ]
    )
    recordings.append(recs)

rec = jnp.stack(recordings, axis=0).T

if __name__ == "__main__":
    print(f"recorded {rec.shape[0]} trace(s) of {rec.shape[1]} samples;"
          f" v from {float(rec.min()):.2f} to {float(rec.max()):.2f} mV")
