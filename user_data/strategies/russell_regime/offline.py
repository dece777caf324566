"""``python -m russell_regime.offline ...``: runs :func:`russell_regime.adapter.offline.main`."""

if __name__ == "__main__":
    from .adapter.offline import main

    raise SystemExit(main())
