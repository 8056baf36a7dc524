"""``colloque serve`` with the audit log switched off: the baseline of ``bench.audit_overhead``.

The switch exists here and nowhere in the product: this module replaces
``colloque.audit.services.record`` with a function that writes nothing, before any module that
calls it is imported (they bind the name at import), then runs the CLI. The server's worker
processes are spawned: each one imports this module again as its ``__mp_main__`` before it loads
the app, so the replacement happens in every worker too.

    python -m bench.without_audit serve --workers 2 --port 8765
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import colloque.audit.services as audit_services

NO_EVENT = UUID(int=0)


def _write_nothing(*_args: Any, **_kwargs: Any) -> UUID:
    return NO_EVENT


audit_services.record = _write_nothing

if __name__ == "__main__":
    from colloque.cli.main import app

    app()
