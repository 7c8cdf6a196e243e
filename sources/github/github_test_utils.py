"""Write-back utilities for github: open marked issues through the REST API
(``POST /repos/{owner}/{repo}/issues``), so the suite can check that a fresh connector reads
them. GitHub's REST API cannot delete an issue, so ``cleanup()`` closes the issues this
instance opened (``PATCH .../issues/{number}``, ``state_reason: not_planned``).

The repository comes from the options ``owner`` and ``repo`` (live: ``LAKEFLOW_GITHUB_OWNER``
and ``LAKEFLOW_GITHUB_REPO``); without them, the sandbox's repository.
"""

from __future__ import annotations

import uuid

from sources.github.github import GithubLakeflowConnect
from sources.interface.options import option
from sources.interface.write_back import LakeflowConnectWriteTestUtils

#: The repository the sandbox (sources/github/sandbox.py) serves.
SANDBOX_OWNER, SANDBOX_REPO = "lakeflow-dev", "sandbox-repo"


class GithubTestUtils(LakeflowConnectWriteTestUtils):
    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self.connector = GithubLakeflowConnect(dict(options))
        self.path = f"/repos/{option(options, 'owner') or SANDBOX_OWNER}/{option(options, 'repo') or SANDBOX_REPO}/issues"
        self.marker = f"lf-test-{uuid.uuid4().hex[:12]}"
        self._count = 0

    def list_insertable_tables(self) -> list[str]:
        return ["issues"]

    def generate_rows_and_write(self, table_name, number_of_rows):
        mapping = {"id": "id", "number": "number", "title": "title", "body": "body", "updated_at": "updated_at"}
        if table_name not in self.list_insertable_tables():
            return False, [], {}
        rows = []
        for _ in range(number_of_rows):
            self._count += 1
            body = {"title": f"{self.marker} issue {self._count}", "body": f"Written by the Lakeflow test run {self.marker}."}
            row = self.connector.client.request("POST", self.path, json=body).json()
            self.created.append(("issues", row["number"]))
            rows.append(row)
        return True, rows, mapping

    def list_deletable_tables(self) -> list[str]:
        return []

    def delete_rows(self, table_name, number_of_rows):
        return False, [], {}

    def cleanup(self) -> None:
        for _, number in self.created:
            self.connector.client.request("PATCH", f"{self.path}/{number}",
                                          json={"state": "closed", "state_reason": "not_planned"})
        self.created.clear()
