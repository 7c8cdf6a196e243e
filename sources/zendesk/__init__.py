"""The zendesk connector."""

from sources.zendesk.zendesk import ZendeskLakeflowConnect

__all__ = ["ZendeskLakeflowConnect"]
