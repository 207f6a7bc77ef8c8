"""Mounted at /api/insights/ by config.urls: the staff API."""

from django.urls import path

from . import api

app_name = "insights-api"

urlpatterns = [
    path("forecast/", api.ForecastAPI.as_view(), name="forecast"),
    path("stock/", api.StockAPI.as_view(), name="stock"),
    path("purchase-list/", api.PurchaseListAPI.as_view(), name="purchase-list"),
    path("retention/", api.RetentionAPI.as_view(), name="retention"),
]
