import pytest

from runtime import constants


@pytest.fixture(autouse=True)
def isolated_keys(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No age identity leaks in from the machine: env vars unset, config dir empty."""
    home = tmp_path_factory.mktemp("home")
    for name in (constants.ENV_SOPS_AGE_KEY, constants.ENV_SOPS_AGE_KEY_FILE, "SOPS_AGE_KEY_CMD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(constants.ENV_XDG_CONFIG_HOME, str(home / ".config"))
    monkeypatch.setenv("HOME", str(home))


@pytest.fixture
def age_pair() -> tuple[str, str]:
    from runtime.sops.age import generate_identity

    return generate_identity()


@pytest.fixture
def age_env(monkeypatch: pytest.MonkeyPatch, age_pair: tuple[str, str]) -> str:
    """SOPS_AGE_KEY holds a fresh identity; returns its recipient."""
    monkeypatch.setenv(constants.ENV_SOPS_AGE_KEY, age_pair[0])
    return age_pair[1]
