import pytest

from services.tenants import validators

EMULATOR = "http://127.0.0.1:4566"


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("https://d-1234567890.awsapps.com/start", "https://d-1234567890.awsapps.com/start"),
        ("https://Acme-Corp.awsapps.com/start/", "https://acme-corp.awsapps.com/start"),
        ("https://acme.awsapps.com/start/#/", "https://acme.awsapps.com/start"),
        (
            "https://ssoins-0123456789abcdef.portal.eu-west-1.app.aws/",
            "https://ssoins-0123456789abcdef.portal.eu-west-1.app.aws",
        ),
    ],
)
def test_access_portal_urls_are_accepted_and_normalized(given: str, normalized: str) -> None:
    assert validators.start_url(given, "eu-west-1") == normalized


@pytest.mark.parametrize(
    "url",
    [
        "http://acme.awsapps.com/start",
        "ftp://acme.awsapps.com/start",
        "//acme.awsapps.com/start",
        "https://acme.awsapps.com",
        "https://acme.awsapps.com/start/../evil",
        "https://acme.awsapps.com/starter",
        "https://user:pw@acme.awsapps.com/start",
        "https://acme.awsapps.com:443/start",
        "https://acme.awsapps.com./start",
        "https://acme.awsapps.com%2eevil.example/start",
        "https://acme.awsapps.com.evil.example/start",
        "https://evil.example/acme.awsapps.com/start",
        "https://acme.awsapps.com/start?redirect=evil",
        "https://acme.awsapps.com/start#evil",
        "https://acme.awsapps.com\\@evil.example/start",
        "https://acme.awsapps.com/start\n",
        "https:// acme.awsapps.com/start",
        "https://-acme.awsapps.com/start",
        "https://a.b.awsapps.com/start",
        "https://ssoins-0123456789abcdef.portal.eu-west-1.app.aws/start",
        "https://ssoins-xyz.portal.eu-west-1.app.aws",
        f"{EMULATOR}/start",
    ],
)
def test_other_shapes_are_refused(url: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies with the problem
        validators.start_url(url, "eu-west-1")


def test_a_portal_in_another_region_than_the_one_given_is_refused() -> None:
    with pytest.raises(ValueError, match="us-east-1"):
        validators.start_url(
            "https://ssoins-0123456789abcdef.portal.us-east-1.app.aws", "eu-west-1"
        )


def test_regions_come_from_botocore_across_partitions() -> None:
    assert validators.sso_region("eu-west-1") == "eu-west-1"
    assert validators.sso_region("us-gov-west-1") == "us-gov-west-1"
    for bogus in ("eu-west-99", "EU-WEST-1", "mars-north-1", ""):
        with pytest.raises(ValueError, match="not an AWS region"):
            validators.sso_region(bogus)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:role/Cloudivize",
        "arn:aws:iam::123456789012:role/team/ops/Cloudivize+RO=1,x.y@z-w_",
        "arn:aws-us-gov:iam::123456789012:role/R",
    ],
)
def test_role_arns_are_accepted(arn: str) -> None:
    assert validators.role_arn(arn) == arn
    assert validators.account_of_role(arn) == "123456789012"


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:user/Cloudivize",
        "arn:aws:iam::12345678901:role/R",
        "arn:aws:sts::123456789012:assumed-role/R/s",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:role/has space",
        "arn:evil:iam::123456789012:role/R",
        "arn:aws:iam::123456789012:role/" + "x" * 65,
    ],
)
def test_other_arns_are_refused(arn: str) -> None:
    with pytest.raises(ValueError, match="not an IAM role ARN"):
        validators.role_arn(arn)


@pytest.mark.parametrize("value", ["12345678901", "1234567890123", "12345678901a", " 123456789012"])
def test_account_ids_are_exactly_twelve_digits(value: str) -> None:
    with pytest.raises(ValueError, match="12 digits"):
        validators.account_id(value)
