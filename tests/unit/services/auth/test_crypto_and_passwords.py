import pytest
from cryptography.fernet import Fernet

from services.auth.crypto import InvalidToken, SecretBox, digest, new_token, same_digest
from services.auth.passwords import hash_password, verify_password


def test_sealed_secrets_open_again_and_are_not_plaintext() -> None:
    box = SecretBox(Fernet.generate_key().decode())

    sealed = box.seal("device-code-123")

    assert b"device-code-123" not in sealed
    assert box.open(sealed) == "device-code-123"


def test_a_changed_ciphertext_does_not_open() -> None:
    box = SecretBox(Fernet.generate_key().decode())
    sealed = bytearray(box.seal_json({"access_token": "abc"}))
    sealed[-5] ^= 1

    with pytest.raises(InvalidToken):
        box.open(bytes(sealed))


def test_a_rotated_key_still_opens_what_the_old_key_sealed() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = SecretBox(old).seal("refresh-token")

    rotated = SecretBox(f"{new},{old}")

    assert rotated.open(sealed) == "refresh-token"
    with pytest.raises(InvalidToken):
        SecretBox(new).open(sealed)


def test_tokens_are_random_and_only_their_digest_matches() -> None:
    first, second = new_token(), new_token()

    assert first != second
    assert len(first) >= 40
    assert same_digest(first, digest(first))
    assert not same_digest(second, digest(first))


def test_a_password_verifies_only_against_its_own_hash() -> None:
    hashed = hash_password("correct horse battery staple")

    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse battery staple")
    assert not verify_password(hashed, "Correct horse battery staple")


def test_no_hash_never_verifies_even_the_dummy_password() -> None:
    assert not verify_password(None, "no user has this password, it only costs time")
    assert not verify_password("not-a-hash", "anything")
