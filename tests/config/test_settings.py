from pathlib import Path

import pytest

from config.settings import Settings


def test_defaults_are_embedded_on_loopback() -> None:
    s = Settings.from_env({})
    assert (s.host, s.port, s.bus, s.state) == ("127.0.0.1", 8050, "memory://", "memory://")


def test_environment_overrides_are_typed() -> None:
    s = Settings.from_env({"CITYCC_PORT": "9100", "CITYCC_SCALE": "2.5",
                           "CITYCC_DATA_DIR": "/tmp/x", "CITYCC_DEMO_PASSWORD": "pw"})
    assert s.port == 9100 and s.scale == 2.5 and s.data_dir == Path("/tmp/x")
    assert s.demo_password == "pw"


def test_explicit_overrides_win_and_none_is_ignored() -> None:
    s = Settings.from_env({"CITYCC_PORT": "9100"}, port=9200, host=None)
    assert s.port == 9200 and s.host == "127.0.0.1"


def test_bad_value_names_the_variable() -> None:
    with pytest.raises(ValueError, match="CITYCC_PORT"):
        Settings.from_env({"CITYCC_PORT": "eighty"})


def test_unknown_override_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown settings"):
        Settings.from_env({}, colour="red")


def test_settings_are_frozen() -> None:
    s = Settings.from_env({})
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]
    assert s.replace(port=1).port == 1
