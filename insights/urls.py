"""Staff pages, mounted at /admin/insights/ by config.urls (before the admin's catch-all)."""

from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("forecast/", views.forecast_page, name="forecast"),
    path("forecast/<str:chart>.csv", views.forecast_csv, name="forecast-csv"),
    path("stock/", views.stock_page, name="stock"),
    path("stock.csv", views.stock_csv, name="stock-csv"),
    path("purchases/", views.purchases_page, name="purchases"),
    path("purchases.<str:fmt>", views.purchases_download, name="purchases-download"),
    path("retention/", views.retention_page, name="retention"),
    path("retention/<str:chart>.csv", views.retention_csv, name="retention-csv"),
]
