import pytest

from auth_token import keys


def test_generate__format():
    raw = keys.generate()
    prefix, _, body = raw.partition("_")
    assert prefix == "at"
    assert len(body) == 49
    assert set(body) <= set(keys.ALPHABET)
    assert keys.is_well_formed(raw)


def test_generate__unique():
    assert len({keys.generate() for _ in range(1000)}) == 1000


def test_generate__prefix_from_settings(settings):
    settings.AUTH_TOKEN_KEY_PREFIX = "acme"
    raw = keys.generate()
    assert raw.startswith("acme_")
    assert keys.is_well_formed(raw)
    settings.AUTH_TOKEN_KEY_PREFIX = "at"
    assert keys.is_well_formed(raw)  # issued under an earlier prefix: still ours


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "000000"),  # CRC32 of nothing is 0
        ("x", "2Zvt6B"),  # CRC32 2363233923 in base 62, 0-9A-Za-z
        ("at_0", "4IfJTN"),  # 3940351681
        ("at_" + "a" * 43, "4QPxQQ"),  # 4054902698
    ],
)
def test_checksum__known_values(text, expected):
    assert keys.checksum(text) == expected


def _flip(raw, index):
    char = raw[index]
    return raw[:index] + ("A" if char != "A" else "B") + raw[index + 1 :]


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda raw: "", id="empty"),
        pytest.param(lambda raw: raw[:-1], id="too-short"),
        pytest.param(lambda raw: raw + "A", id="too-long"),
        pytest.param(lambda raw: _flip(raw, 10), id="typo-in-body"),
        pytest.param(lambda raw: _flip(raw, -1), id="typo-in-checksum"),
        pytest.param(lambda raw: raw[:10] + "-" + raw[11:], id="bad-alphabet"),
        pytest.param(lambda raw: raw[:10] + "\x00" + raw[11:], id="nul-byte"),
        pytest.param(lambda raw: raw[:10] + "é" + raw[11:], id="non-ascii"),
        pytest.param(lambda raw: "xx" + raw[2:], id="other-prefix"),
        pytest.param(lambda raw: raw.replace("_", "-"), id="no-separator"),
        pytest.param(lambda raw: raw.upper(), id="upper-case"),
        pytest.param(lambda raw: " " + raw[1:], id="leading-space"),
        pytest.param(lambda raw: raw[:-1] + "\n", id="trailing-newline"),
        pytest.param(lambda raw: None, id="none"),
        pytest.param(lambda raw: raw.encode(), id="bytes"),
    ],
)
def test_is_well_formed__rejects(mangle):
    assert not keys.is_well_formed(mangle(keys.generate()))


def test_digest__versioned_sha256():
    raw = keys.generate()
    digest = keys.digest(raw)
    version, _, hexdigest = digest.partition("$")
    assert version == "1"
    assert len(hexdigest) == 64
    assert raw not in digest


def test_device_prefix():
    raw = keys.generate(keys.device_prefix())
    assert raw.startswith("atd_")
    assert keys.is_well_formed(raw)
