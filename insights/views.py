"""Staff pages under /admin/insights/: forecast, stock outlook, purchase list, retention.

Read-only. Charts are SVG rendered here (insights.charts); every chart links its numbers as CSV.
"""

from __future__ import annotations

from datetime import date

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from core.errors import DomainError
from subscriptions.selectors import today_in_shop

from . import charts, retention
from .exports import csv_response, purchase_pdf, purchase_rows
from .forecast import Forecast, forecast_build
from .forecast.engine import MAX_DAYS
from .selectors import purchase_list, stock_outlook

DEFAULT_DAYS = 90


def parse_days(raw: str | None) -> int:
    """The ?days= parameter: 1 to MAX_DAYS, default 90; anything else is a DomainError."""
    if raw in (None, ""):
        return DEFAULT_DAYS
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise DomainError(
            "invalid_days", _("日数は1〜%(max)sの整数で指定してください。") % {"max": MAX_DAYS}, field="days"
        )
    return days


def _short(day: date) -> str:
    return f"{day.month}/{day.day}"


def _context(request: HttpRequest, title: str, **extra: object) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _bad_request(request: HttpRequest, template: str, title: str, error: DomainError) -> HttpResponse:
    context = _context(request, title, error=error.message, days=request.GET.get("days", ""))
    return render(request, template, context, status=400)


def _forecast_or_error(request: HttpRequest) -> Forecast:
    return forecast_build(days=parse_days(request.GET.get("days")))


def nights_chart(forecast: Forecast) -> str:
    nights = forecast.night_list()
    return charts.bar_line_chart(
        title=_("受注作成日別の予測受注数"),
        desc=_("各夜の受注作成バッチが作成する受注数（予測）と、継続率で割り引いた推定値"),
        labels=[_short(d) for d, _t in nights],
        series=[
            charts.Series(_("予測受注数"), [t.orders for _d, t in nights]),
            charts.Series(
                _("推定（継続率反映）"), [t.estimated_orders for _d, t in nights], charts.ORANGE, "line", True
            ),
        ],
    )


def shipping_chart(forecast: Forecast) -> str:
    days = forecast.ship_days
    capacity = days[0].capacity if days else None
    series = [charts.Series(_("出荷件数"), [s.parcels for s in days], charts.GREEN)]
    if capacity is not None:
        series.append(charts.Series(_("出荷キャパシティ"), [capacity] * len(days), charts.GREY, "line"))
    return charts.bar_line_chart(
        title=_("出荷日別の出荷件数とキャパシティ"),
        desc=_("予測受注と作成済み未出荷の受注を出荷日ごとに数え、キャパシティ超過日を赤で示す"),
        labels=[_short(s.ship_date) for s in days],
        series=series,
        flags=[s.overflow > 0 for s in days],
        flag_label=_("キャパシティ超過"),
    )


@staff_member_required
def forecast_page(request: HttpRequest) -> HttpResponse:
    title = _("需要予測")
    try:
        forecast = _forecast_or_error(request)
    except DomainError as error:
        return _bad_request(request, "insights/forecast.html", title, error)
    context = _context(
        request,
        title,
        forecast=forecast,
        days=(forecast.end - forecast.start).days + 1,
        totals=forecast.totals(),
        nights=[(d, t, forecast.units_by_sku(t.units)) for d, t in forecast.night_list()],
        skus=forecast.sku_columns(),
        nights_svg=mark_safe(nights_chart(forecast)),  # noqa: S308 - built by insights.charts, escaped there
        shipping_svg=mark_safe(shipping_chart(forecast)),  # noqa: S308
        overflow_days=[s for s in forecast.ship_days if s.overflow],
    )
    return render(request, "insights/forecast.html", context)


@staff_member_required
def forecast_csv(request: HttpRequest, chart: str) -> HttpResponse:
    try:
        forecast = _forecast_or_error(request)
        encoding = request.GET.get("encoding", "cp932")
        if chart == "nights":
            skus = forecast.sku_columns()
            header = [_("受注作成日"), _("受注数"), _("保留"), _("売上（税込）"), _("送料"), _("利用ポイント"),
                      _("推定受注数"), _("推定売上"), *skus]  # fmt: skip
            rows = [
                [d.isoformat(), t.orders, t.held, t.revenue, t.shipping_fee, t.points_used, round(t.estimated_orders),
                 round(t.estimated_revenue), *(forecast.units_by_sku(t.units).get(s, 0) for s in skus)]
                for d, t in forecast.night_list()
            ]  # fmt: skip
        elif chart == "deliveries":
            header = [_("お届け日"), _("受注数"), _("商品数")]
            rows = [
                [d.isoformat(), t.orders, sum(t.units.values())]
                for d, t in sorted(forecast.deliveries.items())
            ]
        elif chart == "shipping":
            header = [_("出荷日"), _("出荷件数"), _("キャパシティ"), _("超過")]
            rows = [[s.ship_date.isoformat(), s.parcels, s.capacity if s.capacity is not None else "", s.overflow]
                    for s in forecast.ship_days]  # fmt: skip
        else:
            raise Http404
        return csv_response(f"forecast-{chart}", header, rows, encoding=encoding)
    except DomainError as error:
        return HttpResponseBadRequest(error.message)


def _order_at(forecast: Forecast, row) -> int:  # noqa: ANN001
    """Days from the start to the order deadline (0 when overdue), -1 when nothing needs ordering."""
    if row.reorder is None:
        return -1
    return max((row.reorder.order_by - forecast.start).days, 0)


def stock_chart(forecast: Forecast, rows: list) -> str:  # noqa: ANN001
    days = (forecast.end - forecast.start).days + 1
    labels = [_short(day.day) for day in rows[0].projection] if rows else []
    return charts.timeline(
        title=_("在庫切れ予測"),
        desc=_("商品ごとに、現在庫と入荷予定で予測需要をまかなえる期間"),
        rows=[(r.sku, r.days_left, _order_at(forecast, r)) for r in rows],
        days=days,
        day_labels=labels,
        legend=(_("期間中は在庫あり"), _("在庫切れ（✕）"), _("発注期限")),
    )


@staff_member_required
def stock_page(request: HttpRequest) -> HttpResponse:
    title = _("在庫切れ予測")
    try:
        forecast = _forecast_or_error(request)
    except DomainError as error:
        return _bad_request(request, "insights/stock.html", title, error)
    rows = stock_outlook(forecast)
    context = _context(
        request, title, forecast=forecast, rows=rows, days=(forecast.end - forecast.start).days + 1,
        stock_svg=mark_safe(stock_chart(forecast, rows)) if rows else "",  # noqa: S308
    )  # fmt: skip
    return render(request, "insights/stock.html", context)


@staff_member_required
def stock_csv(request: HttpRequest) -> HttpResponse:
    try:
        forecast = _forecast_or_error(request)
        rows = stock_outlook(forecast)
        header = [
            _("SKU"),
            _("商品名"),
            _("現在庫"),
            _("入荷予定"),
            _("予測需要"),
            _("在庫切れ予測日"),
            _("発注期限"),
            _("発注数"),
        ]
        body = [
            [r.sku, r.name, r.stock, r.incoming, r.demand, r.runs_out.isoformat() if r.runs_out else "",
             r.reorder.order_by.isoformat() if r.reorder else "", r.reorder.quantity if r.reorder else ""]
            for r in rows
        ]  # fmt: skip
        return csv_response("stock-outlook", header, body, encoding=request.GET.get("encoding", "cp932"))
    except DomainError as error:
        return HttpResponseBadRequest(error.message)


@staff_member_required
def purchases_page(request: HttpRequest) -> HttpResponse:
    title = _("発注リスト")
    try:
        forecast = _forecast_or_error(request)
    except DomainError as error:
        return _bad_request(request, "insights/purchases.html", title, error)
    context = _context(
        request,
        title,
        forecast=forecast,
        plan=purchase_list(forecast),
        days=(forecast.end - forecast.start).days + 1,
    )
    return render(request, "insights/purchases.html", context)


@staff_member_required
def purchases_download(request: HttpRequest, fmt: str) -> HttpResponse:
    try:
        forecast = _forecast_or_error(request)
        plan = purchase_list(forecast)
        if fmt == "csv":
            header, rows = purchase_rows(plan)
            return csv_response("purchase-list", header, rows, encoding=request.GET.get("encoding", "cp932"))
    except DomainError as error:
        return HttpResponseBadRequest(error.message)
    if fmt != "pdf":
        raise Http404
    response = HttpResponse(purchase_pdf(plan, today=forecast.today), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="purchase-list-{forecast.today.isoformat()}.pdf"'
    return response


def _month(day: date) -> str:
    return date_format(day, "Y/m")


def retention_charts(data: dict) -> dict[str, str]:
    cohorts, months, churn = data["cohorts"], data["months"], data["churn"]
    return {
        "cohort": charts.heat_map(
            title=_("申込月別の継続（n回目まで届いた割合）"),
            desc=_("申込月ごとの定期購入のうち、n回目のお届けまで続いた割合"),
            row_labels=[f"{_month(c.month)} ({c.subscriptions:,})" for c in cohorts],
            column_labels=[_("%(n)s回") % {"n": m} for m in range(1, retention.MAX_DELIVERY + 1)],
            cells=[[c.reached[m] for m in range(1, retention.MAX_DELIVERY + 1)] for c in cohorts],
        ),
        "monthly": charts.bar_line_chart(
            title=_("月末の継続中件数と月次定期売上（MRR）"),
            desc=_("各月末に継続中の定期購入の件数（棒）と、その月に作成された定期受注の売上（線、千円）"),
            labels=[_month(m.month) for m in months],
            series=[
                charts.Series(_("継続中の件数"), [m.active for m in months]),
                charts.Series(_("MRR（千円）"), [m.revenue / 1000 for m in months], charts.ORANGE, "line"),
            ],
            label_every=1,
        ),
        "churn": charts.bar_line_chart(
            title=_("解約理由別の件数"),
            desc=_("解約済みの定期購入を解約理由ごとに数えたもの"),
            labels=[label for _code, label, _n in churn],
            series=[charts.Series(_("解約件数"), [n for _c, _l, n in churn], charts.RED)],
            label_every=1,
            height=240,
        ),
    }


def retention_data() -> dict:
    return {
        "courses": retention.course_retention(),
        "cohorts": retention.cohort_table(),
        "churn": retention.churn_by_reason(),
        "months": retention.monthly_series(today_in_shop()),
        "rates": retention.skip_and_pause_rates(),
    }


@staff_member_required
def retention_page(request: HttpRequest) -> HttpResponse:
    data = retention_data()
    svgs = {k: mark_safe(v) for k, v in retention_charts(data).items()}  # noqa: S308
    context = _context(
        request,
        _("継続率・解約分析"),
        **data,
        svgs=svgs,
        deliveries=list(range(2, retention.MAX_DELIVERY + 1)),
    )
    return render(request, "insights/retention.html", context)


@staff_member_required
def retention_csv(request: HttpRequest, chart: str) -> HttpResponse:
    data = retention_data()
    if chart == "cohort":
        header = [
            _("申込月"),
            _("件数"),
            *(_("%(n)s回") % {"n": m} for m in range(1, retention.MAX_DELIVERY + 1)),
        ]
        rows = [[c.month.strftime("%Y-%m"), c.subscriptions, *(f"{c.reached[m]:.4f}" for m in range(1, retention.MAX_DELIVERY + 1))]
                for c in data["cohorts"]]  # fmt: skip
    elif chart == "continuation":
        header = [_("コース"), _("件数"), _("平均お届け回数"), _("最低継続回数"), _("最低回数到達率"),
                  *(_("%(n)s回目継続率") % {"n": m} for m in range(2, retention.MAX_DELIVERY + 1))]  # fmt: skip
        rows = [[c.name, c.subscriptions, f"{c.average_deliveries:.2f}", c.minimum,
                 "" if c.minimum_share is None else f"{c.minimum_share:.4f}",
                 *("" if c.rates[m] is None else f"{c.rates[m]:.4f}" for m in range(2, retention.MAX_DELIVERY + 1))]
                for c in data["courses"]]  # fmt: skip
    elif chart == "churn":
        header, rows = [_("解約理由"), _("件数")], [[label, n] for _c, label, n in data["churn"]]
    elif chart == "monthly":
        header = [_("月"), _("月末の継続中件数"), _("定期受注数"), _("MRR（税込）")]
        rows = [[m.month.strftime("%Y-%m"), m.active, m.orders, m.revenue] for m in data["months"]]
    else:
        raise Http404
    try:
        return csv_response(f"retention-{chart}", header, rows, encoding=request.GET.get("encoding", "cp932"))
    except DomainError as error:
        return HttpResponseBadRequest(error.message)
