"""Test strategy: the plain EmaCross gated by the one-line change (nothing else)."""

from EmaCross import EmaCross

from russell_regime import RussellGateMixin


class GatedEmaCross(RussellGateMixin, EmaCross):
    pass
