from tests.backoffice.helpers import shop_defaults  # noqa: F401 - autouse
