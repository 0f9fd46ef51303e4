import os

from devstack.infra import kafka, postgres
from devstack.infra.postgres import find_bin_dir


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_stopped_postgres_leaves_no_process_and_no_directory() -> None:
    with postgres.running_server() as server:
        pid, base_dir = server.process.pid, server.base_dir
        running_inside = _alive(pid)

    assert running_inside
    assert not _alive(pid)
    assert not base_dir.exists()


def test_a_stopped_broker_leaves_no_process_and_no_directory() -> None:
    with kafka.running_broker() as broker:
        pid, data_dir = broker.process.pid, broker.data_dir
        answering_inside = kafka.api_versions_ok(broker.port)

    assert answering_inside
    assert not _alive(pid)
    assert not data_dir.exists()


def test_find_bin_dir_prefers_the_newest_versioned_directory(tmp_path) -> None:
    for version in ("9.6", "15", "13"):
        bin_dir = tmp_path / version / "bin"
        bin_dir.mkdir(parents=True)
        for tool in ("initdb", "postgres", "pg_isready"):
            (bin_dir / tool).touch()

    found = find_bin_dir((str(tmp_path / "*" / "bin"),), which=lambda tool: None)

    assert found == tmp_path / "15" / "bin"
