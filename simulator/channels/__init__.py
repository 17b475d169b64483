"""Membrane channels: the :class:`Channel` base class and built-in models."""

from simulator.channels.channel import Channel
from simulator.channels.hh import HH
from simulator.channels.point_models import AdEx, Fire, Izhikevich, Rate
from simulator.channels.pospischil import K, Leak, Na
from simulator.channels.pospischil_extra import CaL, CaT, Km

__all__ = [
    "Channel",
    "HH",
    "Na",
    "K",
    "Leak",
    "Km",
    "CaL",
    "CaT",
    "Fire",
    "Izhikevich",
    "Rate",
    "AdEx",
]
