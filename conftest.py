"""This project's tests use the suite's fixtures (:mod:`harness.testing`): one Spark session
per test run, a rate-limit folder per test."""

pytest_plugins = ["harness.testing"]
