"""``python -m russell_regime.offline ...``: the older spelling of ``russell-regime offline ...``
(:func:`russell_regime.adapter.offline.main`)."""

if __name__ == "__main__":
    from .adapter.offline import main

    raise SystemExit(main(prog="python -m russell_regime.offline"))
