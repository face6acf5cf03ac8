import pytest

from runtime import constants


@pytest.fixture(autouse=True)
def clean_runtime_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runtime tests start from an environment that sets none of the variables the runtime reads."""
    for name in (
        constants.ENV_ALLOWED_MODELS,
        constants.ENV_GATEWAY_URL,
        constants.ENV_CUSTOM_HOST,
        constants.ENV_AWS_REGION,
        constants.ENV_AWS_DEFAULT_REGION,
        constants.ENV_AWS_ACCESS_KEY_ID,
        constants.ENV_AWS_SECRET_ACCESS_KEY,
        constants.ENV_AWS_SESSION_TOKEN,
        constants.ENV_SOPS_FILE,
    ):
        monkeypatch.delenv(name, raising=False)
