"""The github connector."""

from sources.github.github import GithubLakeflowConnect

__all__ = ["GithubLakeflowConnect"]
