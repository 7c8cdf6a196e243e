"""``StripeSandbox``: the parts of Stripe's API the stripe connector reads (see
sources/stripe/stripe_api_doc.md), declared with the sandbox kit (sources/toolkit/sandbox).

* Secret-key auth (``Authorization: Bearer <key>``), 401 otherwise; errors as
  ``{"error": {"message", "type"}}``, 400 for invalid parameters.
* ``GET /v1/customers``, ``/v1/charges``, ``/v1/invoices``, ``/v1/subscriptions`` (canceled ones
  only with ``status=all`` or ``status=canceled``) and ``/v1/events``: newest first, ``limit``
  (default 10, at most 100), ``starting_after=<id>``, ``has_more``; ``created[gte|gt|lte|lt]``
  on epoch seconds; events also by ``type``.
* ``GET /v1/customers/{id}`` (a deleted one as ``{"id", "object": "customer", "deleted": true}``),
  ``POST /v1/customers`` and ``POST /v1/customers/{id}`` with form-encoded bodies,
  ``DELETE /v1/customers/{id}`` answering ``{"id", "object": "customer", "deleted": true}``;
  every change to a customer (through the API or a scenario) adds its event
  (``customer.created``, ``customer.updated``, ``customer.deleted``) holding the customer's
  state, as Stripe does; events filter by ``type`` with ``*`` wildcards (``customer.*``).
* Timestamps are whole epoch seconds; writes in one second share it.
"""

from __future__ import annotations

import copy

from sources.toolkit.sandbox import (
    BOOLEAN, EPOCH_SECONDS, INTEGER, STRING, BearerAuth, DeclaredSandbox, Filter, Request, Response,
    StartingAfterPaging, Table, derived, maybe, obj, one_of, route,
)

API_KEY = "sk_test_lakeflow_sandbox"
PAGES = StartingAfterPaging(max_size=100)
CREATED = (Filter("created[gte]", "created", ">="), Filter("created[gt]", "created", ">"),
           Filter("created[lte]", "created", "<="), Filter("created[lt]", "created", "<"))


def _object(kind: str):
    return derived(lambda record, i: kind)


CUSTOMER = {"id": STRING, "object": _object("customer"), "email": STRING, "name": STRING,
            "description": maybe(STRING), "balance": INTEGER, "currency": one_of("usd", "eur", "gbp"),
            "delinquent": BOOLEAN, "livemode": one_of(False), "metadata": obj(tier=one_of("free", "pro")),
            "created": EPOCH_SECONDS}
CHARGE = {"id": STRING, "object": _object("charge"), "amount": INTEGER, "currency": one_of("usd", "eur"),
          "status": one_of("succeeded", "pending", "failed"), "customer": STRING, "paid": BOOLEAN,
          "refunded": BOOLEAN, "description": maybe(STRING), "livemode": one_of(False), "created": EPOCH_SECONDS}
INVOICE = {"id": STRING, "object": _object("invoice"), "customer": STRING,
           "status": one_of("draft", "open", "paid", "void", "uncollectible"), "total": INTEGER,
           "currency": one_of("usd", "eur"), "subscription": maybe(STRING), "livemode": one_of(False),
           "created": EPOCH_SECONDS}
SUBSCRIPTION = {"id": STRING, "object": _object("subscription"), "customer": STRING,
                "status": one_of("active", "trialing", "past_due", "canceled", "unpaid"),
                "current_period_start": EPOCH_SECONDS, "current_period_end": EPOCH_SECONDS,
                "livemode": one_of(False), "created": EPOCH_SECONDS}
EVENT = {"id": STRING, "object": _object("event"),
         "type": one_of("customer.created", "charge.succeeded", "invoice.paid", "customer.subscription.updated"),
         "api_version": one_of("2024-06-20"), "livemode": one_of(False),
         "data": obj(object=obj(id=STRING, object=one_of("customer", "charge", "invoice", "subscription"))),
         "created": EPOCH_SECONDS}


def _listing(name: str, path: str, fields: dict, rows: int, **extra) -> Table:
    return Table(name, path, fields, "id", cursor="created", rows=rows, descending=True, envelope="data",
                 paging=PAGES, cursor_moves_on_update=False, **extra)


class StripeSandbox(DeclaredSandbox):
    name = "stripe"
    auth = BearerAuth(API_KEY, option="api_key")
    error_body = {"error": {"message": "{message}", "type": "invalid_request_error"}}
    unauthorized_message = "Invalid API Key provided"
    tables = (
        _listing("customers", "/v1/customers", CUSTOMER, 140, filters=CREATED, writes=("create", "update", "delete"),
                 update_method="POST", create_status=200,
                 delete_body=lambda r: {"id": r["id"], "object": "customer", "deleted": True}),
        _listing("charges", "/v1/charges", CHARGE, 230, filters=CREATED),
        _listing("invoices", "/v1/invoices", INVOICE, 160, filters=CREATED),
        _listing("subscriptions", "/v1/subscriptions", SUBSCRIPTION, 120, filters=CREATED),
        _listing("events", "/v1/events", EVENT, 260, ties=40, append_only=True,
                 filters=(*CREATED, Filter("type", "type", "glob"))),
    )

    def records_for(self, table: Table, request: Request) -> list[dict]:
        records = super().records_for(table, request)
        if table.name != "subscriptions":
            return records
        status = request.arg("status")  # Stripe leaves canceled subscriptions out unless asked
        if status == "all":
            return records
        return [r for r in records if r["status"] == status] if status else [r for r in records if r["status"] != "canceled"]

    def demo_changes(self) -> str:
        """``lakeflow demo``'s changes between its runs."""
        done = super().demo_changes()
        deleted = self.scenario("customers", "delete", 2)
        return f"{done}; customers -{len(deleted)}"

    # -- every change to a customer is an event holding its new state, as on Stripe ----------
    def create_record(self, table_name: str, values: dict | None = None, at=None, i: int | None = None) -> dict:
        record = super().create_record(table_name, values, at, i)
        if table_name == "customers" and at is not None:  # a write, not the seed
            self._event("customer.created", record)
        return record

    def update_record(self, table_name: str, record: dict, values: dict, at) -> dict:
        record = super().update_record(table_name, record, values, at)
        if table_name == "customers":
            self._event("customer.updated", record)
        return record

    def delete_record(self, table_name: str, record: dict, at) -> None:
        super().delete_record(table_name, record, at)
        if table_name == "customers":
            self._event("customer.deleted", {**record, "deleted": True})

    def _event(self, kind: str, state: dict) -> None:
        event = super().create_record("events", at=self.now())
        event.update(type=kind, data={"object": copy.deepcopy(state)})

    @route("GET", r"/v1/customers/(?P<customer>[^/]+)")
    def retrieve_customer(self, request: Request, customer: str) -> Response:
        """A customer as it is now; a deleted one as ``{"id", "object", "deleted": true}``."""
        with self.lock:
            if customer in self.rows["customers"]:
                return Response.json(copy.deepcopy(self.rows["customers"][customer]))
            if customer in self.deleted["customers"]:
                return Response.json({"id": customer, "object": "customer", "deleted": True})
        return self.error(404, f"No such customer: '{customer}'")
