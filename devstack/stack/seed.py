"""The demo tenant a newcomer signs in to straight after `make run`."""

from collections.abc import Callable

import httpx

DEMO_TENANT = {"name": "Demo Company", "root_email": "root@demo.example"}
DEMO_SLUG = "demo-company"


def internal_headers(signing_key: str | None) -> dict[str, str]:
    """The signed identity internal routes demand; the seed calls as the `devstack` service."""
    if not signing_key:
        return {}
    from shared.identity import Identity, headers_for

    return headers_for(Identity(caller="devstack"), signing_key)


def seed_demo_tenant(
    tenants_url: str, say: Callable[[str], None], headers: dict[str, str] | None = None
) -> None:
    """Create the demo tenant unless it exists; a failure only warns: the stack still runs."""
    try:
        _seed(tenants_url, say, headers or {})
    except httpx.HTTPError as exc:
        say(f"warning: demo tenant not created: {type(exc).__name__}: {exc}")


def _seed(tenants_url: str, say: Callable[[str], None], headers: dict[str, str]) -> None:
    with httpx.Client(base_url=tenants_url, headers=headers, timeout=10.0) as client:
        found = client.get(f"/internal/tenants/by-slug/{DEMO_SLUG}")
        if found.status_code == 200:
            say(f"demo tenant exists: slug={DEMO_SLUG}")
            return
        created = client.post("/internal/tenants", json=DEMO_TENANT)

    if created.status_code in (404, 405):
        say("warning: tenants service has no POST /internal/tenants yet; no demo tenant")
    elif created.is_success:
        say(f"demo tenant created: slug={DEMO_SLUG} root={DEMO_TENANT['root_email']}")
    else:
        say(f"warning: demo tenant not created: status={created.status_code} {created.text[:200]}")
