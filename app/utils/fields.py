"""Form fields shared by every form of the app."""
from __future__ import annotations

import wtforms
from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.widgets import html_params


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
        options = "".join(
            f'<option {"selected " if coerce(value) == data else ""}value="{escape(str(value))}">'
            f'{escape(str(label) or str(value))}</option>'
            for value, label in choices)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


class SelectField(wtforms.SelectField):
    widget = QuickSelect()
