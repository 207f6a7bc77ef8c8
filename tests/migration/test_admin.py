"""The admin upload: a dry-run report first, nothing written until the import is confirmed."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from migration.models import ImportedRecord
from tests.staff import staff_login

from .files import native_csv, row

URL = "migration_importedrecord_upload"


@pytest.fixture
def staff(client, django_user_model, settings, tmp_path):  # noqa: ANN001, ANN201
    settings.MIGRATION_UPLOAD_DIR = tmp_path
    user = django_user_model.objects.create_superuser("staff@example.jp", "staff@example.jp", "pw")
    staff_login(client, user)
    return client


def test_upload_shows_the_dry_run_report_then_confirm_imports(shop, staff, tmp_path) -> None:  # noqa: ANN001
    data = native_csv([row(), row(handle="S-2", items="NOPE-1:1")])
    upload = SimpleUploadedFile("subs.csv", data, content_type="text/csv")

    response = staff.post(reverse(f"admin:{URL}"), {"format": "native", "encoding": "auto", "file": upload})

    assert response.status_code == 200
    body = response.content.decode()
    assert "作成予定 1件" in body and "SKU「NOPE-1」の商品がありません。" in body
    assert ImportedRecord.objects.count() == 0
    confirm = response.context["confirm"].initial

    response = staff.post(
        reverse(f"admin:{URL}"),
        {"confirm": "1", "token": confirm["token"], "format": "native", "encoding": confirm["encoding"]},
        follow=True,
    )
    assert "取り込み完了" in response.content.decode()
    assert list(ImportedRecord.objects.values_list("handle", flat=True)) == ["S-1"]
    assert list(tmp_path.iterdir()) == []


def test_a_confirm_without_an_upload_is_refused(shop, staff) -> None:  # noqa: ANN001
    response = staff.post(
        reverse(f"admin:{URL}"),
        {"confirm": "1", "token": "0" * 32, "format": "native", "encoding": "utf-8"},
        follow=True,
    )
    assert "見つかりません" in response.content.decode()
    assert ImportedRecord.objects.count() == 0


def test_the_register_links_to_the_upload(shop, staff) -> None:  # noqa: ANN001
    response = staff.get(reverse("admin:migration_importedrecord_changelist"))
    assert reverse(f"admin:{URL}") in response.content.decode()
