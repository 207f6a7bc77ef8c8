import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config.api_errors import api_not_found
from mypage.language import set_language

ADMIN = settings.ADMIN_URL_PATH  # "admin/" unless ADMIN_URL says otherwise

urlpatterns = [
    path("", include("orders.documents.urls")),  # PDF downloads; before the admin catch-all
    # Coupons, points, the pricing policy and shipping fees moved from billing to pricing: the old
    # admin addresses (bookmarks, links in mails) still lead to their pages.
    re_path(
        rf"^{re.escape(ADMIN)}billing/(?P<rest>(?:coupon|couponredemption|pointaccount|pointentry|billingpolicy"
        r"|prefectureshippingfee|codfee)/.*)$",
        RedirectView.as_view(url=f"/{ADMIN}pricing/%(rest)s", permanent=True, query_string=True),
    ),
    path("", include("ops.urls")),  # /healthz/, /readyz/, /metrics
    path(f"{ADMIN}insights/", include("insights.urls")),  # staff pages; before the admin's catch-all
    path(f"{ADMIN}backoffice/", include("backoffice.urls")),  # 受注管理: home, CSV in/out
    path(ADMIN, admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", set_language, name="set_language"),  # Django's, remembered per customer
    path("mypage/", include("mypage.urls")),
    path("", include("storefront.urls")),  # /courses/, the checkout, /api/courses/, /api/checkout/
    path("api/", include("mypage.api_urls")),
    path("api/", include("storefront.api_urls")),  # /api/courses/, /api/checkout/
    path("api/insights/", include("insights.api_urls")),
    path(
        "", include("billing.urls")
    ),  # /api/payment-methods/…, /billing/stripe/webhook/, /billing/authenticate/…
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    # last: JSON 404, not HTML; (?s) so a path with a newline in it (%0A) is caught too
    re_path(r"^api/(?P<rest>(?s:.*))$", api_not_found, name="api-not-found"),
]
