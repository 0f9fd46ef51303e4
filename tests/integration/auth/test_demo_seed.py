"""The tenant `make run` seeds can be signed in to at once: by password and through SSO."""

from devstack.stack import seed


async def test_the_demo_tenant_has_a_root_user_and_sso_with_the_emulated_organization(
    stack,
) -> None:  # type: ignore[no-untyped-def]
    said: list[str] = []

    await seed.seed(stack.tenants, stack.auth, stack.info, said.append)
    await seed.seed(stack.tenants, stack.auth, stack.info, said.append)

    tenant = (await stack.tenants.get(f"/internal/tenants/by-slug/{seed.DEMO_SLUG}")).json()
    assert tenant["mode"] == "sso"
    assert tenant["sso"]["start_url"] == stack.info["start_url"]
    assert tenant["sso"]["identity_store_id"] == stack.info["identity_store_id"]
    assert tenant["sso"]["management_role_arn"].endswith(f":role/{seed.READER_ROLE}")
    login = await stack.auth.post(
        "/internal/login",
        json={"email": seed.DEMO_TENANT["root_email"], "password": seed.DEMO_ROOT_PASSWORD},
    )
    assert login.status_code == 200, login.text
    assert login.json()["session"]["is_root"] is True
    assert said[-1] == f"demo tenant exists: slug={seed.DEMO_SLUG}"


async def test_the_seeded_sso_start_reaches_the_emulators_verification_page(stack) -> None:  # type: ignore[no-untyped-def]
    await seed.seed(stack.tenants, stack.auth, stack.info, lambda line: None)

    started = await stack.auth.post(
        f"/internal/sso/{seed.DEMO_SLUG}/start", json={"browser_binding": "b" * 32}
    )

    assert started.status_code in (200, 201), started.text
    assert started.json()["verification_uri_complete"].startswith(stack.info["endpoint_url"])
