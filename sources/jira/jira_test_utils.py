"""Write-back utilities for jira: create marked issues through the API (``POST
/rest/api/3/issue``, the marker in the summary and labels, in the project of the option
``test_project``, default the first project listed) and edit them (``PUT
/rest/api/3/issue/{id}``, which adds a changelog entry), so the suite can check that a fresh
connector reads both; ``cleanup()`` deletes the issues this instance created. Use a test
site for live runs.
"""

from __future__ import annotations

import uuid

from sources.interface.write_back import LakeflowConnectWriteTestUtils
from sources.jira.jira import JiraLakeflowConnect


class JiraTestUtils(LakeflowConnectWriteTestUtils):
    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self.connector = JiraLakeflowConnect({k: v for k, v in options.items() if k != "test_project"})
        self.project = options.get("test_project")
        self.marker = f"lf-test-{uuid.uuid4().hex[:12]}"

    def list_insertable_tables(self) -> list[str]:
        return ["issues", "issue_changelog"]

    def _project(self) -> str:
        if not self.project:
            projects, _ = self.connector.read_table("projects", {}, {})
            self.project = next(projects)["key"]
        return self.project

    def _create(self, i: int) -> dict:
        summary = f"Lakeflow test {self.marker} {i}"
        body = {"fields": {"project": {"key": self._project()}, "summary": summary, "issuetype": {"name": "Task"},
                           "labels": [self.marker]}}
        issue = self.connector.client.request("POST", "/rest/api/3/issue", json=body).json()
        self.created.append(("issues", issue["id"]))
        return {"id": issue["id"], "key": issue["key"], "summary": summary}

    def generate_rows_and_write(self, table_name, number_of_rows):
        if table_name == "issues":
            rows = [self._create(i) for i in range(number_of_rows)]
            return True, rows, {"id": "id", "key": "key", "summary": "fields.summary"}
        if table_name != "issue_changelog":
            return False, [], {}
        rows = []
        for i in range(number_of_rows):  # each edit of a summary is one changelog entry of its issue
            issue = self._create(i)
            edited = f"{issue['summary']} (edited)"
            self.connector.client.request("PUT", f"/rest/api/3/issue/{issue['id']}", json={"fields": {"summary": edited}})
            history = self.connector.client.request("GET", f"/rest/api/3/issue/{issue['id']}/changelog",
                                                    params={"maxResults": 100}).json()["values"]
            entry = next(e for e in reversed(history) if any(item["field"] == "summary" for item in e["items"]))
            rows.append({"id": entry["id"], "issue_id": issue["id"], "author": entry["author"]})
        return True, rows, {"id": "id", "issue_id": "issue_id", "author.accountId": "author.accountId"}

    def cleanup(self) -> None:
        for _, issue in self.created:
            self.connector.client.request("DELETE", f"/rest/api/3/issue/{issue}", ok_statuses=(404,))
        self.created.clear()
