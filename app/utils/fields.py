"""Form fields shared by every form of the app."""
from __future__ import annotations

import wtforms
from wtforms import HiddenField
from markupsafe import Markup, escape
from wtforms import widgets
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
    widget = QuickSelect()


class CreateOnceMixin:
    """A create form's one-time key (app/services/submissions.py): new on every blank form, kept when a
    refused form is shown again, rendered by ``hidden_tag()``. Edit forms that share the class ignore it."""

    submission_key = HiddenField(default=lambda: new_submission_key())


def new_submission_key() -> str:
    from app.services.submissions import new_key  # services import the models; fields must not, at import

    return new_key()
