import pytest

from tests.backoffice.helpers import shop_defaults  # noqa: F401 - autouse


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):  # noqa: ANN001, ANN202
    """Uploaded order-update files wait in a per-test directory, not in var/."""
    settings.BACKOFFICE_UPLOAD_DIR = tmp_path / "order-updates"
