"""Reads about the catalogue that several callers need (my page, its API, storefront)."""

from __future__ import annotations

from .models import CourseCycle


def course_cycle_list(*, course_id: int) -> list[CourseCycle]:
    """The cycles a course offers, in the model's order (position)."""
    return list(CourseCycle.objects.filter(course_id=course_id))
