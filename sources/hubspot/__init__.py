"""HubSpot CRM connector: ``HubSpotLakeflowConnect`` (see :mod:`sources.hubspot.hubspot`)."""

from sources.hubspot.hubspot import HubSpotLakeflowConnect

__all__ = ["HubSpotLakeflowConnect"]
