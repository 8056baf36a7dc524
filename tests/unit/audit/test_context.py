"""The audit context: bound per request, or once for a whole CLI or worker process."""

from __future__ import annotations

import contextvars

from colloque.audit.context import Interface, RequestContext, bind_for_process, bound, current


def test_nothing_bound_is_internal() -> None:
    assert contextvars.Context().run(current) == RequestContext(Interface.INTERNAL)


def test_a_process_binding_lasts_and_a_request_binding_ends() -> None:
    def in_a_worker() -> list[RequestContext]:
        bind_for_process(Interface.WORKER)
        seen = [current()]
        with bound(RequestContext(Interface.API, request_id="r1", client_address="192.0.2.1")):
            seen.append(current())
        seen.append(current())
        return seen

    worker, request, after = contextvars.Context().run(in_a_worker)
    assert worker == after == RequestContext(Interface.WORKER)
    assert request.interface is Interface.API
    assert request.client_address == "192.0.2.1"
