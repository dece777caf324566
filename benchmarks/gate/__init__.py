"""What the Russell gate costs, measured through the public API (see ``bench_gate.py``).

One module per section: :mod:`.common` (paths, strategies, subprocess runner), :mod:`.core`
(Russell slice, features, analysis, memory, fixed per-process cost), :mod:`.backtest`,
:mod:`.hyperopt`, :mod:`.live`, :mod:`.profile`, :mod:`.render` (the markdown tables).

Strategies measured (written to a temporary strategy folder, nothing copied from the repo):

* ``RussellRiskOn`` (the repo's strategy, ``RussellGateMixin`` + its EMA signal) and
  ``RussellRiskOnOff`` (a subclass whose ``russell_params`` set every class ``off``: freqtrade's
  own ``<space>_params`` mechanism);
* ``GatedSample`` = ``class GatedSample(RussellGateMixin, SampleStrategy): pass`` (freqtrade's
  own SampleStrategy, unmodified), ``GatedSampleOff`` (every class off) and ``PlainSample``
  (SampleStrategy with no Russell code at all);
* ``BareGated`` / ``BarePlain``: callbacks that do nothing, with / without the mixin: their
  analysis time difference is the Russell slice (alignment, audit columns, staleness, daily
  features + gate, gathers, tags) and nothing else.

"Cold" always means a fresh strategy instance (empty memos) or a fresh process; no private
state is touched.
"""
