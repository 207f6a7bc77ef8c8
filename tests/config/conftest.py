"""The API edge tests reuse the my page's signed-in customer and subscription."""

from tests.mypage.conftest import (  # noqa: F401 - fixtures
    _fresh_policy_copy,
    api,
    customer,
    subscription,
    today,
)
