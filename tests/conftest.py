"""Shared fixtures: both databases, a real server per database, SDK clients per project.

Every API test runs twice, on SQLite and on a throwaway PostgreSQL cluster. Tests
isolate themselves by working in a fresh project (every row belongs to one), so a
single migrated database and server per backend serve the whole session.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import voucherify

from tests.support.pg import PostgresCluster
from tests.support.servers import ThreadServer
from voucherd.store import migrations, projects
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """One PostgreSQL cluster for the session, started on first use."""
    cluster = PostgresCluster()
    cluster.start()
    yield cluster
    cluster.stop()


class DatabaseFactory:
    """Creates empty databases of either kind."""

    def __init__(self, request: pytest.FixtureRequest, tmp: Path) -> None:
        self.request = request
        self.tmp = tmp

    def url(self, backend: str) -> str:
        """URL of a brand-new, empty database."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.db')}"
        cluster: PostgresCluster = self.request.getfixturevalue("pg_cluster")
        return cluster.create_database(name)

    def migrated(self, backend: str) -> Database:
        """A new database at the head revision."""
        db = Database(self.url(backend))
        migrations.upgrade(db)
        return db


@pytest.fixture(scope="session")
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> DatabaseFactory:
    """Factory for fresh databases (SQLite files in a temp dir, PostgreSQL databases)."""
    return DatabaseFactory(request, tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database kind under test."""
    return str(request.param)


@pytest.fixture(scope="session")
def db(backend: str, databases: DatabaseFactory) -> Iterator[Database]:
    """A migrated database shared by the session's tests of one backend."""
    database = databases.migrated(backend)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def server(db: Database) -> Iterator[ThreadServer]:
    """A real voucherd on 127.0.0.1 over ``db``."""
    srv = ThreadServer(database_url=db.url, db=db)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def project(db: Database) -> ProjectKeys:
    """A fresh project (and its keys) for one test."""
    with db.write() as conn:
        return projects.create_project(conn, f"test-{uuid.uuid4().hex[:10]}")


def sdk_configuration(host: str, keys: ProjectKeys) -> voucherify.Configuration:
    """The official SDK configured for ``keys`` against ``host`` (all three schemes)."""
    return voucherify.Configuration(
        host=host,
        api_key={
            "X-App-Id": keys.app_id,
            "X-App-Token": keys.app_token,
            "X-Client-Application-Id": keys.client_app_id,
            "X-Client-Token": keys.client_token,
            "X-Management-Id": keys.app_id,
            "X-Management-Token": keys.app_token,
        },
    )


@pytest.fixture
def sdk(server: ThreadServer, project: ProjectKeys) -> Iterator[voucherify.ApiClient]:
    """An official SDK ``ApiClient`` for the test's project."""
    with voucherify.ApiClient(sdk_configuration(server.url, project)) as client:
        yield client


@pytest.fixture
def http(server: ThreadServer, project: ProjectKeys) -> Iterator[httpx.Client]:
    """Raw HTTP with the project's server keys, for what the SDK cannot express."""
    headers = {"X-App-Id": project.app_id, "X-App-Token": project.app_token}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture(autouse=True)
def _reset_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests that move the server clock get real time back afterwards."""
    yield
    if "server" in request.fixturenames:
        request.getfixturevalue("server").clock.reset()
