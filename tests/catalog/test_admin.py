"""Catalog admin pages render, search and stay within a query budget."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import CourseFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url_name", "query"),
    [
        ("admin:catalog_product_changelist", ""),
        ("admin:catalog_product_changelist", "?q=青汁&is_active__exact=1&tax_rate__exact=8"),
        ("admin:catalog_course_changelist", ""),
        ("admin:catalog_course_changelist", "?q=SKU&is_active__exact=1"),
    ],
)
def test_catalog_changelists_render_in_bounded_queries(
    admin_client, url_name, query, django_assert_max_num_queries
):
    for _ in range(5):
        CourseFactory()
    with django_assert_max_num_queries(10):
        response = admin_client.get(reverse(url_name) + query)
    assert response.status_code == 200


def test_course_list_shows_cycles_and_change_page_has_inlines(admin_client):
    course = CourseFactory(name="青汁定期コース")
    listing = admin_client.get(reverse("admin:catalog_course_changelist")).content.decode()
    assert "青汁定期コース" in listing and "2ヶ月ごと" in listing
    page = admin_client.get(reverse("admin:catalog_course_change", args=[course.pk])).content.decode()
    for title in ("コース商品", "回数別価格", "選択可能な周期", "お届けスケジュールのプレビュー"):
        assert title in page


def test_product_search_by_sku(admin_client):
    target = ProductFactory(sku="AOJIRU-30", name="青汁 30包")
    ProductFactory(sku="SHAKER", name="シェイカー")
    result = (
        admin_client.get(reverse("admin:catalog_product_changelist"), {"q": "aojiru"})
        .context["cl"]
        .result_list
    )
    assert list(result) == [target]
