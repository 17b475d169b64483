"""``stable_digest``: a content key that is the same in every process, or None."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from simulator.channels import HH
from simulator.static_key import stable_digest, static_key

CODE = """
import numpy as np
from simulator.channels import HH
from simulator.static_key import stable_digest, static_key
print(stable_digest(static_key({"a": np.arange(3.0), "hh": HH(), "n": (1, 2.5, "x")})))
"""


def test_same_digest_in_another_process():
    here = stable_digest(static_key({"a": np.arange(3.0), "hh": HH(), "n": (1, 2.5, "x")}))
    there = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert here is not None and here == there


def test_content_changes_the_digest():
    base = stable_digest(static_key({"a": np.arange(3.0)}))
    assert stable_digest(static_key({"a": np.arange(3.0) + 1e-12})) != base
    assert stable_digest(static_key({"a": np.arange(3.0, dtype=np.float32)})) != base
    assert stable_digest(static_key({"b": np.arange(3.0)})) != base
    # str and bytes of the same text differ; 1 and True differ
    assert stable_digest(static_key("ab")) != stable_digest(static_key(b"ab"))
    assert stable_digest(static_key(1)) != stable_digest(static_key(True))


def test_identity_only_objects_have_no_digest():
    class Local:
        pass

    assert stable_digest(static_key(lambda x: x)) is None
    assert stable_digest(static_key(Local)) is None
    assert stable_digest(static_key(np.exp)) is not None  # importable by name (numpy)


def test_cached_properties_are_not_content():
    """A value a ``functools.cached_property`` stored (derived, there only once asked for)
    does not change the key: a compiled module keys the same before and after its
    ``signature`` is computed (the gym env's deferred stability check computes it later
    than a directly built env; their envs must still compare equal)."""
    import simulator as jx
    from simulator.compile import compile_module

    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0])
    cell.insert(HH())
    fresh, asked = compile_module(cell.base), compile_module(cell.base)
    _ = asked.signature
    assert "signature" in vars(asked) and "signature" not in vars(fresh)
    assert static_key(fresh) == static_key(asked)
    cell.branch(1).set("radius", 2.0)  # content still counts
    assert static_key(compile_module(cell.base)) != static_key(fresh)


def test_typed_key_arrays_are_keyed_by_implementation_and_data():
    import jax

    a, b = jax.random.key(1), jax.random.key(1)
    assert static_key(a) == static_key(b)
    assert static_key(a) != static_key(jax.random.key(2))
    assert static_key(a) != static_key(jax.random.key(1, impl="rbg"))
    assert static_key(a) != static_key(jax.random.key_data(a))  # not the bare integers
