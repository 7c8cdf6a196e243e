"""The stripe connector."""

from sources.stripe.stripe import StripeLakeflowConnect

__all__ = ["StripeLakeflowConnect"]
