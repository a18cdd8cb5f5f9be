"""``python -m fakezalo``: the local fake Zalo (see :mod:`fakezalo`)."""

from .server import main

raise SystemExit(main())
