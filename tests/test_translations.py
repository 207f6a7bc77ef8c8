"""One language at a time: every label our apps define has its English, and the admin is Japanese.

The catalogue tests read locale/en/LC_MESSAGES/django.po and ask gettext (the compiled .mo) for
each entry, so a label added without its English — or a .po edited without compiling the .mo —
fails here. The page tests (tests/mypage/test_english.py) catch text that never reached the
catalogue at all.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models
from django.urls import reverse
from django.utils import translation

from tests.staff import staff_login

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
OUR_APPS = [
    "catalog",
    "customers",
    "subscriptions",
    "orders",
    "billing",
    "notifications",
    "mypage",
    "scheduler",
]
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


def _po_entries(path: Path) -> list[dict[str, object]]:
    """msgctxt / msgid / msgid_plural / msgstr(s) / flags of each entry (a reader for our own file)."""
    entries, entry, key = [], None, None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if entry and entry.get("msgid"):
                entries.append(entry)
            entry, key = None, None
            continue
        entry = entry if entry is not None else {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(key, tuple):
                entry["msgstr"][key[1]] += value
            else:
                entry[key] += value
        else:
            name, _, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            match = re.fullmatch(r"msgstr\[(\d+)\]", name)
            if match:
                key = ("msgstr", int(match.group(1)))
                entry["msgstr"][key[1]] = value
            elif name == "msgstr":
                key = ("msgstr", 0)
                entry["msgstr"][0] = value
            else:
                key = name
                entry[name] = value
    return entries


def test_every_catalogue_entry_is_translated_and_compiled():
    # given the English catalogue
    entries = _po_entries(CATALOGUE)
    assert len(entries) > 500

    # then no entry is empty or fuzzy, and the compiled catalogue returns each translation
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values()) or "fuzzy" in e["flags"]]
    assert untranslated == []
    stale = []
    with translation.override("en"):
        for e in entries:
            if "msgid_plural" in e:
                got = translation.ngettext(e["msgid"], e["msgid_plural"], 2)
                want = e["msgstr"][1]
            elif "msgctxt" in e:
                got, want = translation.pgettext(e["msgctxt"], e["msgid"]), e["msgstr"][0]
            else:
                got, want = translation.gettext(e["msgid"]), e["msgstr"][0]
            if got != want:
                stale.append(e["msgid"])
    assert stale == [], "the .mo is older than the .po: run compilemessages"


def _choices_classes() -> list[type[models.Choices]]:
    """Every TextChoices / IntegerChoices defined in our apps' modules (models and the rest loaded)."""
    found = []
    seen = set()
    stack = list(models.Choices.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls in seen or cls.__module__.split(".")[0] not in OUR_APPS:
            continue
        seen.add(cls)
        found.append(cls)
    return found


def test_every_choice_label_reads_in_english_and_in_japanese():
    # given every choice set of our apps (statuses, time slots, points modes, reasons, weekdays…)
    import orders.documents.render  # noqa: F401 - its DocumentKind is loaded with the admin actions

    classes = _choices_classes()
    assert {"SubscriptionStatus", "TimeSlot", "PointsReservation", "OrderStatus", "Weekday"} <= {
        cls.__name__ for cls in classes
    }
    # then each label has its English, and reads in Japanese by default
    missing = []
    for cls in classes:
        for value, label in cls.choices:
            with translation.override("en"):
                english = str(label)
            with translation.override("ja"):
                japanese = str(label)
            if JAPANESE.search(english) or not JAPANESE.search(japanese):
                missing.append(f"{cls.__module__}.{cls.__name__}.{value}: {japanese!r} / {english!r}")
    assert missing == []


def _labels():
    for label in OUR_APPS:
        config = apps.get_app_config(label)
        yield f"app {label}", config.verbose_name
        for model in config.get_models():
            yield f"{model._meta.label}", model._meta.verbose_name
            yield f"{model._meta.label} (plural)", model._meta.verbose_name_plural
            for field in model._meta.get_fields():
                if (field.auto_created and not field.concrete) or field.name == "id":
                    continue
                yield f"{model._meta.label}.{field.name}", field.verbose_name


def test_every_app_model_and_field_is_named_in_japanese_with_an_english_translation():
    # given the app sections, models and fields the admin shows (FKs and timestamps included)
    wrong = []
    for where, name in _labels():
        with translation.override("ja"):
            japanese = str(name)
        with translation.override("en"):
            english = str(name)
        # then each one is Japanese for the shop and has its English
        if not JAPANESE.search(japanese) or JAPANESE.search(english):
            wrong.append(f"{where}: {japanese!r} / {english!r}")
    assert wrong == []


# Column headers and form labels: <th scope="col"> in the change list, <label> in the form.
_HEADER = re.compile(r'<th scope="col"[^>]*>(.*?)</th>', re.S)
_LABEL = re.compile(r"<label[^>]*>(.*?)</label>", re.S)
_TAGS = re.compile(r"<[^>]+>")


def _english_only_labels(html: str) -> set[str]:
    texts = {_TAGS.sub("", m).strip() for m in _HEADER.findall(html) + _LABEL.findall(html)}
    return {t for t in texts if re.search(r"[A-Za-z]{3,}", t) and not JAPANESE.search(t)}


@pytest.mark.django_db
def test_the_admin_shows_japanese_headers_and_labels_on_our_lists_and_forms(client):
    # given the demo shop and a superuser, with the admin in Japanese
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115, PTH123
    user = get_user_model().objects.filter(is_superuser=True).first()
    staff_login(client, user)

    # when every change list of our apps, and the change form of its first row, is opened
    english = {}
    for model, _model_admin in admin.site._registry.items():
        if model._meta.app_label not in OUR_APPS:
            continue
        info = (model._meta.app_label, model._meta.model_name)
        pages = [reverse("admin:{}_{}_changelist".format(*info))]
        row = model.objects.first()
        if row is not None:
            pages.append(reverse("admin:{}_{}_change".format(*info), args=[row.pk]))
        for url in pages:
            response = client.get(url, follow=True, HTTP_ACCEPT_LANGUAGE="ja")
            assert response.status_code == 200, url
            found = _english_only_labels(response.content.decode())
            if found:
                english[url] = sorted(found)

    # then no column header or field label is left in English
    assert english == {}
    # and the index names the app sections in Japanese (django-celery-beat's from locale/ja)
    index = client.get(reverse("admin:index")).content.decode()
    for label in (
        "定期購入",
        "受注",
        "顧客",
        "商品・定期コース",
        "決済",
        "価格・クーポン・ポイント",
        "定期実行タスク",
    ):
        assert f">{label}<" in index
