"""factory_boy factories shared by every test module."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from catalog.models import Course, CourseCycle, CourseItem, CoursePrice, Product
from customers.models import Address, Customer
from subscriptions.models import Subscription, SubscriptionItem
from subscriptions.services import subscription_recompute_next


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.LazyAttribute(lambda o: o.username)
    password = factory.django.Password("pass12345")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"山田 花子{n}")
    # Each factory customer is another person: two of them sharing kana and phone (and the factory
    # address) would be "the same person" to customers.matching, and a blacklisted one would hold
    # every other customer's orders as lookalikes.
    name_kana = factory.Sequence(lambda n: f"ヤマダ ハナコ{n}")
    phone = factory.Sequence(lambda n: f"090-{1234 + n // 10000:04d}-{n % 10000:04d}")


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    recipient_name = factory.LazyAttribute(lambda o: o.customer.name)
    postal_code = "100-0001"
    prefecture = "東京都"
    city = "千代田区"
    line1 = "千代田1-1"
    is_default = True


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"青汁 {n}")
    price = 3980
    tax_rate = 8


class CourseFactory(factory.django.DjangoModelFactory):
    """A course with one product: first delivery ¥980, from the second ¥3,980; monthly or bimonthly."""

    class Meta:
        model = Course
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"course-{n}")
    name = factory.Sequence(lambda n: f"定期コース {n}")

    @factory.post_generation
    def setup(obj, create, extracted, **kwargs):  # noqa: ANN001, ANN201, N805
        if not create:
            return
        product = extracted or ProductFactory()
        CourseItem.objects.create(course=obj, product=product, quantity=1)
        CoursePrice.objects.create(course=obj, product=product, from_sequence=1, unit_price=980)
        CoursePrice.objects.create(course=obj, product=product, from_sequence=2, unit_price=3980)
        CourseCycle.objects.create(course=obj, unit="month", interval=1, is_default=True, position=0)
        CourseCycle.objects.create(course=obj, unit="month", interval=2, position=1)


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """An active monthly subscription whose next_* fields agree with its anchor and the shop policy."""

    class Meta:
        model = Subscription
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    course = factory.SubFactory(CourseFactory)
    cycle_unit = "month"
    cycle_interval = 1
    anchor_date = dt.date(2027, 1, 31)
    anchor_sequence = 1
    next_sequence = 1
    shipping_address = factory.LazyAttribute(lambda o: AddressFactory(customer=o.customer))

    @factory.post_generation
    def items(obj, create, extracted, **kwargs):  # noqa: ANN001, ANN201, N805
        if not create:
            return
        for course_item in obj.course.items.all():
            SubscriptionItem.objects.create(
                subscription=obj, product=course_item.product, quantity=course_item.quantity
            )

    @factory.post_generation
    def schedule(obj, create, extracted, **kwargs):  # noqa: ANN001, ANN201, N805
        subscription_recompute_next(obj)
        if create:
            obj.save(update_fields=["next_sequence", "next_delivery_date", "next_creation_date"])
