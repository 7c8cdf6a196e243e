"""The jira connector."""

from sources.jira.jira import JiraLakeflowConnect

__all__ = ["JiraLakeflowConnect"]
