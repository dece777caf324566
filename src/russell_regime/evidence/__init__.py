"""Evidence for the Russell 2000 regime idea: event study and gated-vs-ungated backtests.

Pure core: :mod:`.events` (event extraction, de-clustering), :mod:`.forward` (forward returns,
max gain / drawdown, base rate), :mod:`.bootstrap` (seeded block bootstrap, placebos),
:mod:`.multitest` (Benjamini-Hochberg), :mod:`.study` (the event study from typed inputs),
:mod:`.compare` (comparison tables), :mod:`.random_gate` (same-exposure random gates),
:mod:`.superiority` (SPA / StepM of gate variants vs ungated), :mod:`.overfit` (Deflated
Sharpe Ratio, PBO by CSCV), :mod:`.correlation` (Russell vs crypto correlation, leads and
lags), :mod:`.html_report` (the HTML report's page), :mod:`.metrics` (performance metrics of
an equity curve), :mod:`.alignment` (gate and confirmation states at instants).
I/O at the edges: :mod:`.backtest` (freqtrade in-process), :mod:`.trials` (a hyperopt results
file), :mod:`.plots` and :mod:`.plots_correlation`, :mod:`.report` (tables and writing),
:mod:`.commands` (registration) over :mod:`.cli_events` (``events``, ``event-study``),
:mod:`.cli_compare` (``compare``), :mod:`.cli_walk_forward` (``compare --walk-forward``),
:mod:`.cli_overfit` (``overfit``), :mod:`.cli_correlation` (``correlation``),
:mod:`.cli_report` (``report``) and :mod:`.cli_common` (options, loading).
"""
