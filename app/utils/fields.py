"""Form fields shared by every form of the app."""
from __future__ import annotations

import re
import secrets

import wtforms
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import HiddenField, widgets
from wtforms.widgets import html_params

from app.utils.lru import LRU


class QuickSelect(widgets.Select):
    """WTForms' select, written in one pass when the choices are plain (value, label) pairs.

    WTForms turns every choice into two objects and every ``<option>`` into a call of
    ``html_params`` (sorting, escaping and formatting each attribute): the task centre's filter
    form, with ~270 options (operators, departments, processes), took a quarter of its page's
    time. The output is the same as WTForms' (``selected`` first, as it sorts); anything else
    (option groups, options with attributes of their own, multiple choice) goes through WTForms.
    """

    def __call__(self, field, **kwargs):
        choices = field.choices
        if self.multiple or not isinstance(choices, list) or not all(
                type(choice) is tuple and len(choice) == 2 for choice in choices):
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in dir(flags):
            if name in self.validation_attrs and name not in kwargs:
                kwargs[name] = getattr(flags, name)
        coerce, data = field.coerce, field.data
        options = option_tags(choices, [value for value, _label in choices if coerce(value) == data])
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


# The same long lists of choices (departments, operators, processes) on every page of a kind.
_RENDERED_OPTIONS = LRU(512)


def option_tags(choices: list[tuple], selected: list) -> Markup:
    """The ``<option>`` tags of plain (value, label) ``choices``, those whose value is in ``selected``
    marked as WTForms marks them. The tags of a list of choices are written once per process and
    language (a translated label's hash and equality are its text in the request's language)."""
    key = tuple(choices)
    html = _RENDERED_OPTIONS.get(key)
    if html is None:
        html = _RENDERED_OPTIONS.put(key, "".join(
            f'<option value="{escape(str(value))}">{escape(str(label) or str(value))}</option>'
            for value, label in choices))
    for value in selected:
        tag = f'<option value="{escape(str(value))}">'
        html = html.replace(tag, f'<option selected value="{escape(str(value))}">', 1)
    return Markup(html)


class SelectField(wtforms.SelectField):
    """The app's select: fast to render, and a value its ``coerce`` refuses is a Chinese field error."""

    widget = QuickSelect()

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = self.coerce(valuelist[0])
        except (ValueError, TypeError) as problem:
            self.data = None
            message = str(problem) if str(problem) in (str(NOT_AN_INTEGER), str(OUT_OF_RANGE)) else NOT_A_CHOICE
            raise ValueError(str(message)) from None


class MultiCheckboxField(wtforms.SelectMultipleField):
    """Checkboxes of a multiple choice; values its ``coerce`` refuses are a Chinese field error."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def process_formdata(self, valuelist):
        try:
            self.data = [self.coerce(value) for value in valuelist]
        except (ValueError, TypeError) as problem:
            self.data = []
            message = str(problem) if str(problem) in (str(NOT_AN_INTEGER), str(OUT_OF_RANGE)) else NOT_A_CHOICE
            raise ValueError(str(message)) from None


# ---------------------------------------------------------------- whole numbers the database can hold

# PostgreSQL's integer, the type of every id and quantity column: a larger number is refused with a
# field error instead of reaching the database (where it was a 500).
DB_INT_MIN, DB_INT_MAX = -(2**31), 2**31 - 1
NOT_AN_INTEGER = _l("请输入整数")
OUT_OF_RANGE = _l("数值超出范围（%(low)s 到 %(high)s）", low=DB_INT_MIN, high=DB_INT_MAX)
NOT_A_CHOICE = _l("请选择有效的选项")


def database_int(value) -> int:
    """``value`` as a whole number the database can store, or ValueError with a Chinese message.
    Only ASCII digits: ``int()`` also takes "１２" and "1_000", and ``str.isdigit`` takes "²"."""
    text = str(value).strip()
    if not INTEGER_TEXT.fullmatch(text):
        raise ValueError(str(NOT_AN_INTEGER))
    if len(text) > 12 or not DB_INT_MIN <= int(text) <= DB_INT_MAX:
        raise ValueError(str(OUT_OF_RANGE))
    return int(text)


def optional_int(value) -> int | None:
    """An optional id from a select or a hidden field: empty is None, anything else as ``database_int``."""
    if value in (None, "", "None"):
        return None
    return database_int(value)


def lenient_int(value, default=None):
    """A number from a filter or a page link: what does not parse, or is out of range, is ``default``."""
    try:
        return optional_int(value) if value is not None else default
    except ValueError:
        return default


INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")


class IntegerField(wtforms.IntegerField):
    """WTForms' integer field, bounded to the database's integer, with Chinese errors."""

    def process_formdata(self, valuelist):
        if not valuelist or str(valuelist[0]).strip() == "":
            self.data = None
            return
        try:
            self.data = database_int(valuelist[0])
        except ValueError as problem:
            self.data = None
            raise ValueError(str(problem)) from None


class IdField(wtforms.HiddenField):
    """A hidden id (a repeated row's process, line or version): a whole number in range, or empty."""

    def process_formdata(self, valuelist):
        raw = valuelist[0] if valuelist else None
        try:
            self.data = optional_int(raw)
        except ValueError as problem:
            self.data = None
            raise ValueError(str(problem)) from None

    def _value(self):
        return "" if self.data is None else str(self.data)


class CreateOnceMixin:
    """A create form's one-time key (app/services/core/submissions.py): new on every blank form, kept when a
    refused form is shown again, rendered by ``hidden_tag()``. Edit forms that share the class ignore it."""

    submission_key = HiddenField(default=lambda: new_submission_key())


def new_submission_key() -> str:
    """A one-time key for a create form (app/services/core/submissions.py keeps the used ones)."""
    return secrets.token_urlsafe(24)
