"""The one masking function (issue 14): user:password, conda /t/<token>/, token-like query parameters."""
from __future__ import annotations

import pytest

from envcheck.redact import redact, redact_any

CASES = [
    # userinfo
    ("https://user:pw@host/simple", "https://user:****@host/simple"),
    ("https://TOKEN@host/simple", "https://****@host/simple"),
    ("https://u:p@ss@host/x", "https://u:****@host/x"),  # a raw '@' in the password
    ("a https://u:p@h/x b http://h2/y", "a https://u:****@h/x b http://h2/y"),
    ("--index-url https://me:s3cr3t@mirror.example/simple --find-links https://tok@wheels.example/",
     "--index-url https://me:****@mirror.example/simple --find-links https://****@wheels.example/"),
    ("git+https://tok@github.com/a/b.git@v1", "git+https://****@github.com/a/b.git@v1"),
    # conda channel tokens
    ("https://conda.anaconda.org/t/abc-123/pytorch", "https://conda.anaconda.org/t/****/pytorch"),
    ("channel_alias: https://repo.example/t/xyz", "channel_alias: https://repo.example/t/****"),
    # token-like query parameters
    ("https://h/simple?token=abc&x=1", "https://h/simple?token=****&x=1"),
    ("https://h/x?api_key=1&access_token=2#auth=3", "https://h/x?api_key=****&access_token=****#auth=****"),
    ("https://h/x?Password=p&secret=s&private_token=t", "https://h/x?Password=****&secret=****&private_token=****"),
    ("https://bucket.example/w.whl?X-Amz-Signature=abc&X-Amz-Credential=k", "https://bucket.example/w.whl?X-Amz-Signature=****&X-Amz-Credential=****"),
    ("https://blob.example/w.whl?sv=1&sig=abc", "https://blob.example/w.whl?sv=1&sig=****"),
    # left alone
    ("https://host/simple", "https://host/simple"),
    ("https://h/x?author=me&page=2", "https://h/x?author=me&page=2"),
    ("/home/t/x", "/home/t/x"),
    ("user@example.com", "user@example.com"),
    ("password=foo", "password=foo"),  # not a URL parameter
    ("", ""),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_redact(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text, _expected", CASES)
def test_redact_is_idempotent(text, _expected):
    assert redact(redact(text)) == redact(text)


@pytest.mark.parametrize("secret", ["s3cr3t", "abc-123", "tok987"])
def test_no_secret_survives_in_nested_data(secret):
    data = {"argv": ["pip", "install", f"--index-url=https://me:{secret}@h/simple"],
            "channels": (f"https://conda.anaconda.org/t/{secret}/c",), "url": f"https://h/s?token={secret}",
            f"https://x:{secret}@k": 1, "n": 3, "none": None}
    masked = redact_any(data)
    assert secret not in repr(masked)
    assert masked["n"] == 3 and masked["none"] is None


def test_non_strings_pass_through():
    assert redact(None) is None
    assert redact_any(5) == 5
