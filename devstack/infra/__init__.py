"""Local infrastructure for tests and `make run`: Kafka and PostgreSQL from plain binaries."""

from devstack.infra.errors import InfraUnavailable

__all__ = ["InfraUnavailable"]
