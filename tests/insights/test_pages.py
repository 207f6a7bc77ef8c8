"""Staff pages, downloads, the staff API and the forecast command."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from catalog.models import Product
from insights.models import IncomingStock, PlanningSettings, ProductSupply, Supplier
from tests.factories import ProductFactory, SubscriptionFactory, UserFactory
from tests.staff import staff_login

pytestmark = pytest.mark.django_db
TOKYO = ZoneInfo("Asia/Tokyo")
TODAY = dt.date(2027, 1, 20)


@pytest.fixture
def shop(time_machine, policy):  # noqa: ANN001, ANN201
    """Two monthly subscriptions (first order created 2027-01-25) of a tracked product with a supplier."""
    time_machine.move_to(dt.datetime(2027, 1, 20, 12, 0, tzinfo=TOKYO), tick=False)
    product = ProductFactory(sku="AOJIRU-30", name="青汁", stock=3)
    from tests.factories import CourseFactory

    course = CourseFactory(setup=product)
    SubscriptionFactory(course=course)
    SubscriptionFactory(course=course)
    supplier = Supplier.objects.create(name="株式会社グリーン農園", contact="佐藤")
    ProductSupply.objects.create(
        product=product, supplier=supplier, reorder_point=2, lead_time_days=3, order_unit=10
    )
    IncomingStock.objects.create(product=product, quantity=1, arrives_on=dt.date(2027, 2, 1))
    PlanningSettings.objects.update_or_create(pk=1, defaults={"daily_shipping_capacity": 1})
    return product


@pytest.fixture
def staff_client(client):  # noqa: ANN001, ANN201
    staff_login(client, UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "url",
    ["/admin/insights/forecast/", "/admin/insights/stock/", "/admin/insights/purchases/", "/admin/insights/retention/",
     "/admin/insights/purchases.pdf", "/admin/insights/forecast/nights.csv"],
)  # fmt: skip
def test_pages_are_for_staff_only(client, url) -> None:  # noqa: ANN001
    client.force_login(UserFactory())  # a customer
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_forecast_page_shows_the_orders_chart_and_the_capacity_overflow(
    shop, staff_client, django_assert_max_num_queries
) -> None:  # noqa: ANN001, E501
    with django_assert_max_num_queries(40):
        response = staff_client.get("/admin/insights/forecast/?days=30")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and "受注作成日別の予測受注数" in html
    assert "2027/01/25" in html  # the night both first orders are created
    assert "出荷キャパシティを超える日" in html  # two parcels against a capacity of one


def test_a_bad_days_value_is_a_400_with_a_message(shop, staff_client) -> None:  # noqa: ANN001
    for bad in ("abc", "0", "401"):
        response = staff_client.get(f"/admin/insights/forecast/?days={bad}")
        assert response.status_code == 400
        assert "日数は1〜400の整数で指定してください" in response.content.decode()
    assert staff_client.get("/api/insights/forecast/?days=x").json()["code"] == "invalid_days"


def test_forecast_csv_is_cp932_by_default_and_utf8_on_request(shop, staff_client) -> None:  # noqa: ANN001
    body = staff_client.get("/admin/insights/forecast/nights.csv?days=10").content
    rows = list(csv.reader(io.StringIO(body.decode("cp932"))))
    assert rows[0][:2] == ["受注作成日", "受注数"] and "AOJIRU-30" in rows[0]
    assert rows[1 + 5][:2] == ["2027-01-25", "2"]  # 1/20 … 1/25
    utf8 = staff_client.get("/admin/insights/forecast/nights.csv?days=10&encoding=utf-8").content
    assert utf8.startswith("\ufeff".encode()) and "受注作成日".encode() in utf8
    assert staff_client.get("/admin/insights/forecast/nights.csv?encoding=latin1").status_code == 400


def test_stock_page_and_purchase_list_say_when_to_order(shop, staff_client) -> None:  # noqa: ANN001
    # 3 in stock, 2 taken on 1/25 (1 left, below the reorder point of 2): order 3 days before, in tens
    html = staff_client.get("/admin/insights/stock/?days=40").content.decode()
    assert "在庫切れ予測" in html and "2027/01/22" in html
    body = staff_client.get("/admin/insights/purchases.csv?days=40").content.decode("cp932")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[1][:5] == ["株式会社グリーン農園", "AOJIRU-30", "青汁", "2027-01-22", "10"]
    pdf = staff_client.get("/admin/insights/purchases.pdf?days=40")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_retention_page_and_csvs(shop, staff_client, django_assert_max_num_queries) -> None:  # noqa: ANN001
    with django_assert_max_num_queries(30):
        html = staff_client.get("/admin/insights/retention/").content.decode()
    assert "コース別 n回目継続率" in html and html.count('class="insights-chart"') == 3
    for chart in ("cohort", "continuation", "churn", "monthly"):
        response = staff_client.get(f"/admin/insights/retention/{chart}.csv")
        assert response.status_code == 200 and response.content
    assert staff_client.get("/admin/insights/retention/nope.csv").status_code == 404


def test_the_api_is_staff_only_and_in_the_schema(shop, staff_client) -> None:  # noqa: ANN001
    customer = Client()
    customer.force_login(UserFactory())
    assert customer.get("/api/insights/forecast/").status_code == 403
    data = staff_client.get("/api/insights/forecast/?days=10").json()
    day = next(d for d in data["days"] if d["creation_date"] == "2027-01-25")
    assert day["orders"] == 2 and day["units"] == {"AOJIRU-30": 2} and day["revenue"] == 2 * 980
    assert staff_client.get("/api/insights/stock/").json()[0]["sku"] == "AOJIRU-30"
    assert staff_client.get("/api/insights/purchase-list/").json()[0]["quantity"] == 10
    assert "courses" in staff_client.get("/api/insights/retention/").json()
    schema = staff_client.get("/api/schema/").content.decode()
    assert "/api/insights/forecast/" in schema and "/api/insights/retention/" in schema


def test_forecast_command_formats(shop) -> None:  # noqa: ANN001
    out = io.StringIO()
    call_command("forecast", "--days", "10", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["start"] == TODAY.isoformat() and len(data["days"]) == 10
    assert {
        "creation_date": "2027-01-25",
        "orders": 2,
        "units": {"AOJIRU-30": 2},
        "revenue": 1960,
    }.items() <= next(d for d in data["days"] if d["creation_date"] == "2027-01-25").items()
    out = io.StringIO()
    call_command("forecast", "--days", "10", "--format", "csv", stdout=out)
    assert out.getvalue().splitlines()[0].startswith("creation_date,orders")
    out = io.StringIO()
    call_command("forecast", "--days", "10", stdout=out)
    assert "2027-01-25" in out.getvalue() and "total" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("forecast", "--days", "0")
    assert Product.objects.get(sku="AOJIRU-30").stock == 3  # read-only: nothing was taken


def test_the_pages_speak_english_on_request(shop, staff_client) -> None:  # noqa: ANN001
    html = staff_client.get("/admin/insights/forecast/?days=10", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Forecast orders by creation date" in html and "受注作成日別の予測受注数" not in html


def test_the_staff_api_wants_the_second_factor_too(client):  # noqa: ANN001
    client.force_login(UserFactory(is_staff=True, is_superuser=True))  # a password alone
    response = client.get("/api/insights/forecast/")
    assert response.status_code == 403 and response.json()["code"]
