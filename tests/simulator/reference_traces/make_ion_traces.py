"""Generate ``ions.npz``: reference traces for ``test_ions.py``.

Run once (needs the reference simulator, jaxley 0.14.0)::

    python tests/simulator/reference_traces/make_ion_traces.py

Each model of :mod:`ion_models` is built with ``jaxley`` and integrated in float64; every
``SUBSAMPLE``-th time point of its recordings is stored under the model's name, together with
the jaxley version.
"""

from __future__ import annotations

from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jaxley  # noqa: E402
import jaxley.channels  # noqa: E402
import jaxley.pumps  # noqa: E402
import numpy as np  # noqa: E402
from ion_models import MODELS, SUBSAMPLE, simulate  # noqa: E402

OUT = Path(__file__).with_name("ions.npz")


def main() -> None:
    traces = {}
    for name in MODELS:
        traces[name] = np.asarray(simulate(name, jaxley, jaxley.channels, jaxley.pumps))[
            :, ::SUBSAMPLE
        ]
    np.savez_compressed(OUT, jaxley_version=np.array(jaxley.__version__), **traces)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes): "
          + ", ".join(f"{k}{v.shape}" for k, v in traces.items()))


if __name__ == "__main__":
    main()
