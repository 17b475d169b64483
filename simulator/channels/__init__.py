"""Membrane channels: the :class:`Channel` base class and built-in models."""

from simulator.channels.channel import Channel
from simulator.channels.hh import HH
from simulator.channels.pospischil import K, Leak, Na

__all__ = ["Channel", "HH", "Na", "K", "Leak"]
