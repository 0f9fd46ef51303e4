"""Sign-up, status, SSO settings, saved views and the audit trail over the internal API."""

import uuid

from tests.integration.tenants.conftest import acting

START_URL = "https://d-1234567890.awsapps.com/start"


async def test_a_new_tenant_is_active_in_iam_role_mode_with_a_unique_slug(tenants) -> None:  # type: ignore[no-untyped-def]
    first = await tenants.sign_up("Ünïcode & Co.")
    second = await tenants.sign_up("Unicode Co")

    assert (first["slug"], second["slug"]) == ("unicode-co", "unicode-co-2")
    assert (first["status"], first["mode"], first["sso"]) == ("active", "iam_role", None)
    found = await tenants.client.get(f"/internal/tenants/by-slug/{second['slug']}")
    assert found.json()["id"] == second["id"]


async def test_sso_connects_and_disconnect_is_idempotent(tenants) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    path = f"/internal/tenants/{tenant['id']}/sso"
    body = {
        "start_url": START_URL + "/#/",
        "region": "eu-west-1",
        "identity_store_id": "d-1234567890",
        "management_role_arn": "arn:aws:iam::123456789012:role/CloudivizeDirectoryReader",
        "default_role": "viewer",
    }

    connected = await tenants.client.put(path, json=body, auth=acting(tenant["id"]))
    first = await tenants.client.delete(path, auth=acting(tenant["id"]))
    second = await tenants.client.delete(path, auth=acting(tenant["id"]))

    assert connected.status_code == 200, connected.text
    assert connected.json()["mode"] == "sso"
    assert connected.json()["sso"] == {
        "start_url": START_URL,
        "region": "eu-west-1",
        "identity_store_id": "d-1234567890",
        "management_role_arn": "arn:aws:iam::123456789012:role/CloudivizeDirectoryReader",
        "default_role": "viewer",
    }
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["mode"] == second.json()["mode"] == "iam_role"
    assert second.json()["sso"] is None
    events = await tenants.events(tenant["id"], until_type="tenant.sso_disconnected")
    assert [e.type for e in events].count("tenant.sso_disconnected") == 1


async def test_a_deactivated_tenant_refuses_changes_until_reactivated(tenants) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    base = f"/internal/tenants/{tenant['id']}"
    view = {"name": "Prod", "aws_account_id": "123456789012", "region": "eu-west-1"}

    deactivated = await tenants.client.post(f"{base}/deactivate", auth=acting(tenant["id"]))
    refused = await tenants.client.post(f"{base}/views", json=view, auth=acting(tenant["id"]))
    reactivated = await tenants.client.post(f"{base}/reactivate", auth=acting(tenant["id"]))
    accepted = await tenants.client.post(f"{base}/views", json=view, auth=acting(tenant["id"]))

    assert deactivated.json()["status"] == "deactivated"
    assert deactivated.json()["status_changed_by"] == "user-1"
    assert refused.status_code == 409
    assert refused.json()["error"] == "tenant_deactivated"
    assert "reactivate" in refused.json()["detail"]
    assert reactivated.json()["status"] == "active"
    assert accepted.status_code == 201, accepted.text


async def test_saved_views_are_listed_created_and_deleted(tenants) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    base = f"/internal/tenants/{tenant['id']}/views"
    auth = acting(tenant["id"], role="author", is_root=False)
    prod = {"name": "  Prod   estate ", "aws_account_id": "123456789012", "region": "eu-west-1"}
    dev = {"name": "Dev", "aws_account_id": "210987654321", "region": "us-east-1"}

    created = (await tenants.client.post(base, json=prod, auth=auth)).json()
    await tenants.client.post(base, json=dev, auth=auth)
    duplicate = await tenants.client.post(base, json=prod, auth=auth)
    deleted = await tenants.client.delete(f"{base}/{created['id']}", auth=auth)
    listed = (await tenants.client.get(base, auth=auth)).json()

    assert created["name"] == "Prod estate"
    assert duplicate.status_code == 409
    assert deleted.status_code == 204
    assert [(v["name"], v["region"]) for v in listed] == [("Dev", "us-east-1")]


async def test_the_audit_lists_every_change_with_its_actor_newest_first(tenants) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    base = f"/internal/tenants/{tenant['id']}"
    await tenants.client.post(f"{base}/deactivate", auth=acting(tenant["id"], user_id="alice"))
    await tenants.client.post(f"{base}/reactivate", auth=acting(tenant["id"], user_id="bob"))

    audit = (await tenants.client.get(f"{base}/audit")).json()

    assert [(entry["action"], entry["actor"]) for entry in audit] == [
        ("tenant.reactivated", "bob"),
        ("tenant.deactivated", "alice"),
        ("tenant.created", "service:tests"),
    ]
    times = [entry["occurred_at"] for entry in audit]
    assert times == sorted(times, reverse=True)


async def test_a_fresh_sign_up_can_be_undone_once(tenants) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    path = f"/internal/tenants/{tenant['id']}"

    undone = await tenants.client.delete(f"{path}/signup")
    again = await tenants.client.delete(f"{path}/signup")

    assert undone.status_code == 204
    assert again.status_code == 404
    assert (await tenants.client.get(path)).status_code == 404
    events = await tenants.events(tenant["id"], until_type="tenant.deleted")
    assert [e.type for e in events] == ["tenant.created", "tenant.deleted"]


async def test_a_sign_up_that_was_changed_cannot_be_undone(tenants) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    path = f"/internal/tenants/{tenant['id']}"
    await tenants.client.post(f"{path}/deactivate")

    refused = await tenants.client.delete(f"{path}/signup")

    assert refused.status_code == 409
    assert (await tenants.client.get(path)).status_code == 200


async def test_another_tenants_caller_gets_404_as_if_it_did_not_exist(tenants) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    stranger = acting(str(uuid.uuid4()))

    by_id = await tenants.client.get(f"/internal/tenants/{tenant['id']}", auth=stranger)
    by_slug = await tenants.client.get(f"/internal/tenants/by-slug/{tenant['slug']}", auth=stranger)
    change = await tenants.client.post(
        f"/internal/tenants/{tenant['id']}/deactivate", auth=stranger
    )

    assert (by_id.status_code, by_slug.status_code, change.status_code) == (404, 404, 404)
    assert (await tenants.client.get(f"/internal/tenants/{tenant['id']}")).json()["status"] == (
        "active"
    )


async def test_users_without_the_right_role_are_refused(tenants) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenants.sign_up()
    base = f"/internal/tenants/{tenant['id']}"
    viewer = acting(tenant["id"], role="viewer", is_root=False)
    admin = acting(tenant["id"], role="admin", is_root=False)
    view = {"name": "Prod", "aws_account_id": "123456789012", "region": "eu-west-1"}

    assert (await tenants.client.post(f"{base}/views", json=view, auth=viewer)).status_code == 403
    assert (await tenants.client.post(f"{base}/deactivate", auth=viewer)).status_code == 403
    assert (await tenants.client.delete(f"{base}/sso", auth=admin)).status_code == 403
    assert (await tenants.client.get(f"{base}/aws-link", auth=viewer)).status_code == 403
    assert (await tenants.client.get(base, auth=viewer)).status_code == 200
