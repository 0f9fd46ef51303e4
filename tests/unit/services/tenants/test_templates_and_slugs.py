import json
from urllib.parse import parse_qs, urlsplit

import pytest

from services.tenants import templates
from services.tenants.service import new_external_id, slugify

PRINCIPAL = "arn:aws:iam::444455556666:user/cloudivize-platform"


def test_the_template_trusts_only_the_principal_under_the_external_id_condition() -> None:
    template = json.loads(templates.render(PRINCIPAL, "abc-123"))

    role = template["Resources"]["CloudivizeRole"]["Properties"]
    [statement] = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": PRINCIPAL}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
    assert template["Parameters"]["ExternalId"]["Default"] == "abc-123"
    assert role["ManagedPolicyArns"] == [{"Fn::Sub": templates.READ_ONLY_POLICY}]


def test_the_quick_create_link_prefills_the_external_id_and_template() -> None:
    url = templates.quick_create_url("https://bucket.example/t.json", "abc-123", "eu-west-1")

    fragment = urlsplit(url).fragment
    query = parse_qs(fragment.split("?", 1)[1])
    assert url.startswith("https://console.aws.amazon.com/cloudformation/home?region=eu-west-1#")
    assert query["param_ExternalId"] == ["abc-123"]
    assert query["templateURL"] == ["https://bucket.example/t.json"]


def test_external_ids_are_long_random_and_valid_for_sts() -> None:
    ids = {new_external_id() for _ in range(100)}

    assert len(ids) == 100
    for external_id in ids:
        assert len(external_id) >= 32  # 24 random bytes, base64url
        assert all(char.isalnum() or char in "-_" for char in external_id)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Acme Corporation", "acme-corporation"),
        ("  Ünïcode & Co. ", "unicode-co"),
        ("!!!", "tenant"),
        ("a" * 80, "a" * 40),
    ],
)
def test_slugs_are_url_safe(name: str, slug: str) -> None:
    assert slugify(name) == slug
