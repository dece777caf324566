"""Russell 2000 risk-appetite regime for freqtrade strategies.

Functional core (calendar, features, align, gate) with I/O at the edges
(sources, cache, live refresh, offline markets, CLI).
"""

__version__ = "0.1.0"
