"""Tunable behaviour of the emulator.

Every timing is read at the moment an operation runs, so a test may shorten a
device code's life on a running server without restarting it.
"""

from dataclasses import dataclass

# Any access key the emulator does not know acts in this account, as in moto.
MANAGEMENT_ACCOUNT_ID = "123456789012"

# Cloudivize's own AWS account: not part of the customer's organization.
CLOUDIVIZE_ACCOUNT_ID = "444455556666"
CLOUDIVIZE_USER_NAME = "cloudivize-platform"

# Fixed demo keys of the Cloudivize principal. They exist only inside this
# emulator, so printing them is harmless and lets services start with them.
CLOUDIVIZE_ACCESS_KEY_ID = "AKIACLOUDIVIZEDEMO01"
CLOUDIVIZE_SECRET_ACCESS_KEY = "cloudivize-emulator-demo-secret-key-0001"  # noqa: S105


@dataclass
class EmulatorSettings:
    """What a test or `make run` may change; defaults follow AWS."""

    region: str = "us-east-1"
    device_code_expires_in: float = 600.0
    device_poll_interval: float = 1.0
    client_expires_in: float = 90 * 24 * 3600.0
    access_token_expires_in: float = 8 * 3600.0
    portal_rate_limit: int = 20
    portal_rate_window: float = 1.0
    role_session_duration: int = 3600
    default_password: str = "Demo-Password-1"  # noqa: S105 - the documented demo password
