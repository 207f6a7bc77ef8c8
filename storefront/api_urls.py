from django.urls import path

from . import api

app_name = "storefront-api"

urlpatterns = [
    path("courses/", api.CourseListAPI.as_view(), name="courses"),
    path("courses/<slug:code>/", api.CourseDetailAPI.as_view(), name="course"),
    path("checkout/quote/", api.CheckoutQuoteAPI.as_view(), name="checkout-quote"),
    path("checkout/", api.CheckoutAPI.as_view(), name="checkout"),
]
