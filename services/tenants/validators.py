"""Shape checks for what customers type: AWS account IDs, role ARNs, regions, start URLs.

Each check returns the normalized value or raises `ValueError` with a sentence a person
can act on; schemas turn that into a 422 naming the field.
"""

import re
from functools import cache
from urllib.parse import urlsplit

import boto3

ACCOUNT_ID = re.compile(r"^\d{12}$")
ROLE_ARN = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):iam::(?P<account>\d{12}):"
    r"role/(?P<path>(?:[\w+=,.@-]+/)*)(?P<name>[\w+=,.@-]{1,64})$"
)
# AWS writes d-<10 hex>; the local emulator (moto) uses any lower-case letters, so
# this accepts d-<10 lower-case alphanumerics, or the UUID form.
IDENTITY_STORE_ID = re.compile(
    r"^(d-[0-9a-z]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
AWSAPPS_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.awsapps\.com$")
APP_AWS_HOST = re.compile(r"^ssoins-[0-9a-f]{16}\.portal\.(?P<region>[a-z0-9-]+)\.app\.aws$")


def account_id(value: str) -> str:
    if not ACCOUNT_ID.fullmatch(value):
        raise ValueError("an AWS account ID is exactly 12 digits")
    return value


def role_arn(value: str) -> str:
    if not ROLE_ARN.fullmatch(value):
        raise ValueError("not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)")
    return value


def account_of_role(arn: str) -> str:
    match = ROLE_ARN.fullmatch(arn)
    assert match is not None, "validate the ARN first"
    return match.group("account")


def identity_store_id(value: str) -> str:
    if not IDENTITY_STORE_ID.fullmatch(value):
        raise ValueError("an Identity Store ID looks like d-1234567890")
    return value


@cache
def known_regions(service: str) -> frozenset[str]:
    """Every region botocore knows `service` in, across all partitions."""
    session = boto3.session.Session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions(service, partition_name=partition)
    )


def region(value: str, service: str = "ec2") -> str:
    if value not in known_regions(service):
        raise ValueError(f"{value!r} is not an AWS region where {service} is available")
    return value


def sso_region(value: str) -> str:
    return region(value, "sso-oidc")


def start_url(value: str, sso_region_name: str) -> str:
    """An IAM Identity Center access portal URL, checked strictly; returns it normalized.

    Accepted: https://<name>.awsapps.com/start (optionally /start/ or /start/#/) and
    https://ssoins-<16 hex>.portal.<region>.app.aws (optionally / or /#/), whose region
    must be the one given. The AWS emulator's start URL has the first shape too.
    """
    if any(char.isspace() or char == "\\" or ord(char) < 0x20 for char in value):
        raise ValueError("must not contain spaces, backslashes or control characters")
    parts = urlsplit(value)
    if parts.scheme != "https":
        raise ValueError("must be an https:// URL")
    host = _plain_host(parts.netloc)
    if parts.query or parts.fragment not in ("", "/"):
        raise ValueError("must not carry a query or a fragment other than #/")
    if AWSAPPS_HOST.fullmatch(host):
        return _awsapps(host, parts.path)
    portal = APP_AWS_HOST.fullmatch(host)
    if portal:
        return _app_aws(host, parts.path, portal.group("region"), sso_region_name)
    raise ValueError("must be https://<name>.awsapps.com/start or an ssoins-… .app.aws portal")


def _plain_host(netloc: str) -> str:
    # Userinfo ("https://evil@x.awsapps.com") and ports are the usual tricks to make a
    # URL look like AWS's while pointing elsewhere; the portal never uses either.
    if "@" in netloc or ":" in netloc or "%" in netloc:
        raise ValueError("must not contain a user name, password, port or escaped host")
    host = netloc.lower()
    if host.endswith("."):
        raise ValueError("must not end its host name with a dot")
    return host


def _awsapps(host: str, path: str) -> str:
    if path not in ("/start", "/start/"):
        raise ValueError("an awsapps.com start URL ends in /start")
    return f"https://{host}/start"


def _app_aws(host: str, path: str, host_region: str, sso_region_name: str) -> str:
    if path not in ("", "/"):
        raise ValueError("an app.aws portal URL has no path")
    if host_region != sso_region_name:
        raise ValueError(f"the portal is in {host_region}, not in the region given")
    return f"https://{host}"
