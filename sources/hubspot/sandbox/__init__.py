"""HubSpot CRM sandbox: a stateful, threaded HTTP server on 127.0.0.1 that speaks the
documented HubSpot CRM v3/v4 API well enough for connectors and HubSpot's official Python
client (``hubspot-api-client``) to run against it unchanged.

Start it::

    from sources.hubspot.sandbox import HubSpotSandbox

    with HubSpotSandbox(token="sandbox-token", seed=50) as sb:
        sb.connection_options()        # {"base_url": sb.url, "access_token": "sandbox-token"}

        from hubspot import HubSpot    # the official client: point ``host`` at the sandbox
        client = HubSpot(access_token=sb.token, host=sb.url)
        client.crm.contacts.basic_api.get_page(limit=10)

Constructor: ``HubSpotSandbox(token="sandbox-token", seed=0, host="127.0.0.1", port=0,
latency=0.0, rate_limits=True | False | RateLimitConfig(...), ten_second_limit=190,
search_per_second=5, search_index_delay=0.0, clock=None)``. ``seed=N`` creates N owners and
N deterministic records of every standard object type (contacts, companies, deals, tickets,
products, line_items, calls, emails, meetings, notes, tasks) with associations between
contacts, companies, deals, tickets, line items and engagements. ``clock`` is a callable
returning epoch milliseconds (default: real time); the server never lets it run backwards and
an update always moves a record's ``updatedAt`` strictly forward.

Endpoints (the names are the keys of ``request_counts``):

    GET    /crm/v3/objects/{object_type}                      list (limit ≤100, after, properties,
                                                              associations, archived, propertiesWithHistory)
    POST   /crm/v3/objects/{object_type}                      create (201)
    GET    /crm/v3/objects/{object_type}/{object_id}          read (properties, associations, archived, idProperty)
    PATCH  /crm/v3/objects/{object_type}/{object_id}          update (bumps updatedAt + lastmodified property)
    DELETE /crm/v3/objects/{object_type}/{object_id}          archive (204; lastmodified unchanged)
    POST   /crm/v3/objects/{object_type}/batch/read|create|update|upsert|archive   (≤100 inputs)
    POST   /crm/v3/objects/{object_type}/search               search (limit ≤200, after+limit ≤10,000)
    GET    /crm/v3/properties/{object_type}                   + POST (create), GET/PATCH/DELETE
           /crm/v3/properties/{object_type}/{property_name}   (``.../groups`` lists property groups)
    GET    /crm/v3/schemas, POST /crm/v3/schemas, GET /crm/v3/schemas/{object_type}
           (also under /crm-object-schemas/v3/schemas, the path hubspot-api-client v12 uses)
    GET    /crm/v3/owners, GET /crm/v3/owners/{owner_id}
    POST   /crm/v4/associations/{from_type}/{to_type}/batch/create|read|archive|associate/default
    GET    /crm/v4/associations/{from_type}/{to_type}/labels
    PUT    /crm/v4/objects/{from_type}/{from_id}/associations/default/{to_type}/{to_id}
    PUT|DELETE /crm/v4/objects/{from_type}/{from_id}/associations/{to_type}/{to_id}
    GET    /crm/v4/objects/{object_type}/{object_id}/associations/{to_type}

Object types are addressed by name (``contacts``), singular (``contact``), objectTypeId
(``0-1``) or, for custom objects, fullyQualifiedName (``p12345678_cars``).

Behaviour worth knowing (modelled on HubSpot's docs; see FIELD_NOTES.md):

* Auth: ``Authorization: Bearer <token>``; otherwise 401 ``INVALID_AUTHENTICATION``.
  ``add_token(t, scopes=[...])`` registers a restricted token: calls it lacks a scope for get
  403 ``MISSING_SCOPES`` with ``errors[0].context.requiredGranularScopes``.
* Request lines longer than ``max_url_length`` (8,000 chars) get 414 before routing
  (counted in ``uri_too_long_count``, not in ``request_counts``).
* Rate limits per token: a rolling 10 s window (``ten_second_limit``) → 429
  ``TEN_SECONDLY_ROLLING``; search has its own ``search_per_second`` → 429 ``SECONDLY``.
  Non-search responses carry ``X-HubSpot-RateLimit-Max/-Remaining/-Interval-Milliseconds/
  -Daily/-Daily-Remaining``; search responses carry none. No ``Retry-After`` unless
  ``sandbox.retry_after_on_429 = True`` (computed) or a number. The record of how callers
  paced themselves: ``max_window_count(token=None, search=False)`` (the most requests that
  arrived in any rolling 10 s, or search 1 s, window; rejected ones included, kept with
  limits disabled too) and ``served_429`` (429s the limits answered), both zeroed by
  ``reset_rate_limits()``; ``GET /__limits__`` (no auth, not counted) answers them as JSON
  for a sandbox in another process.
* Search: ≤5 filterGroups, ≤6 filters per group, ≤18 filters, one sort; ``after`` is a
  numeric offset; after+limit > 10,000 → 400. Archived records never match. Sort ties (and
  the default order) are by id ascending; records without a value sort last. Writes become
  visible to search ``search_index_delay`` seconds after they happen (until then search sees
  the previous version).

Scenario helpers: ``seed_burst(object_type, count, timestamp_ms)`` (many records sharing one
timestamp), ``create_record``, ``update_records(object_type, ids, properties, timestamp_ms=None)``,
``archive_records(object_type, ids)``, ``add_property(object_type, name, type, field_type)``,
``create_schema(body)``, ``add_owner(...)``, ``touch_owners(ids, **fields)``,
``add_token(token, scopes)``, ``add_service_key(scopes)``, ``remove_token(token)``,
``set_search_index_delay(seconds)``, ``flush_search_index()``, ``on_request(callback)``,
``after_nth_request(endpoint, n, fn)``, ``record_count(object_type, archived=False)``,
``record_ids``, ``get_record``, ``freeze_clock(ms)``, ``advance_clock(ms)``,
``reset_rate_limits()``, plus the inherited ``request_counts``,
``inject(Fault(...), times, endpoint)`` and ``latency``.

Layout: ``sandbox.py`` assembles ``HubSpotSandbox`` from one mixin per API family:
``store.py`` (records, ids, clock, search index; the one place records are created, updated,
archived, validated and rendered), ``limits.py`` (auth, scopes, rate limits, hooks, 414),
``objects.py``, ``search.py``, ``properties.py`` (and schemas), ``owners.py``,
``associations.py`` and ``scenarios.py`` (truth, scenarios, demo, seeding, test helpers);
``common.py`` holds the shared error and request helpers, ``catalog.py`` the object types and
properties, ``seed.py`` the seed data generator and ``values.py`` value normalization.
"""

from sources.hubspot.sandbox.sandbox import HubSpotSandbox, RateLimitConfig

__all__ = ["HubSpotSandbox", "RateLimitConfig"]
