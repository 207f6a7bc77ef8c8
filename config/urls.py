from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

admin.site.site_header = "定期購入 管理画面"
admin.site.site_title = "定期購入"

urlpatterns = [
    path("", include("orders.documents.urls")),  # PDF downloads; before the admin catch-all
    path("admin/insights/", include("insights.urls")),  # staff pages; before the admin's catch-all
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("mypage/", include("mypage.urls")),
    path("api/", include("mypage.api_urls")),
    path("api/insights/", include("insights.api_urls")),
    path(
        "", include("billing.urls")
    ),  # /api/payment-methods/…, /billing/stripe/webhook/, /billing/authenticate/…
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
