"""Entry point: ``python tests/sandbox --port 0 [--host H] [--state FILE] [--log-file FILE]``.

Run as a directory, Python already puts this folder first on ``sys.path``; the
insert below makes ``python -m`` and other launchers behave the same, so the
sandbox modules import each other as top-level modules (``import context``).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import server  # noqa: E402  pylint: disable=wrong-import-position,import-error

sys.exit(server.main())
