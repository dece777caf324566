"""Evidence for the Russell 2000 regime idea: event study and gated-vs-ungated backtests.

Pure core: :mod:`.events` (event extraction, de-clustering), :mod:`.forward` (forward returns,
max gain / drawdown, base rate), :mod:`.bootstrap` (seeded block bootstrap, placebos),
:mod:`.multitest` (Benjamini-Hochberg), :mod:`.study` (the event study from typed inputs),
:mod:`.compare` (comparison tables), :mod:`.random_gate` (same-exposure random gates),
:mod:`.metrics` (performance metrics of an equity curve). I/O at the edges: :mod:`.backtest`
(freqtrade in-process), :mod:`.plots`, :mod:`.report` (tables and writing), :mod:`.commands`
(registration) over :mod:`.cli_events` (``events``, ``event-study``), :mod:`.cli_compare`
(``compare``) and :mod:`.cli_common` (options, loading).
:mod:`.alignment` (gate and confirmation states at instants) is pure too.
"""
