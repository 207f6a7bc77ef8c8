from django.urls import path

from . import views

app_name = "storefront"

urlpatterns = [
    path("courses/", views.course_list, name="courses"),
    path("courses/<slug:code>/", views.course_detail, name="course"),
    path("courses/<slug:code>/checkout/", views.checkout, name="checkout"),
    path("courses/<slug:code>/checkout/confirm/", views.confirm, name="confirm"),
    path("checkout/setup-intent/", views.setup_intent, name="setup_intent"),
    path("checkout/done/<int:subscription_id>/", views.done, name="done"),
    path("mypage/confirmations/<int:subscription_id>/", views.confirmation_record, name="confirmation"),
]
