from typing import Any

import pytest

from tests.deploy.support import STAGING, documents, kustomize


@pytest.fixture(scope="session")
def staging() -> list[dict[str, Any]]:
    """Every resource `kubectl apply -k deploy/k8s/overlays/staging` would apply."""
    return documents(kustomize(STAGING))
