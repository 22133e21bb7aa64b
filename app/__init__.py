"""The newsdesk application: ingest, re-index, stats and ask, over ``index/`` and ``retrieval/``.

The CLI and the Discord bot drive ``app.engine.Engine``; neither ``index/`` nor ``retrieval/``
imports this package.
"""
