"""app.utils.fields.SelectField: its quick option renderer writes exactly what WTForms' would."""
import pytest
import wtforms
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.validators import InputRequired

from app.utils.fields import SelectField

CHOICES = [("", "全部"), ("3", "印刷车间"), ("<b>", 'A & "B"'), ("7", ""), (True, "是")]


class Quick(Form):
    field = SelectField(choices=CHOICES, validate_choice=False)


class Plain(Form):
    field = wtforms.SelectField(choices=CHOICES, validate_choice=False)


class Required(Form):
    quick = SelectField(choices=CHOICES, validators=[InputRequired()])
    plain = wtforms.SelectField(choices=CHOICES, validators=[InputRequired()])
    quick_numbers = SelectField(choices=[(1, "一"), (2, "二")], coerce=int, default=2)
    plain_numbers = wtforms.SelectField(choices=[(1, "一"), (2, "二")], coerce=int, default=2)


@pytest.mark.parametrize("data", [{}, {"field": "3"}, {"field": "<b>"}, {"field": "True"}, {"field": "none of them"}])
def test_quick_select_renders_what_wtforms_renders(data):
    quick, plain = Quick(MultiDict(data)).field, Plain(MultiDict(data)).field
    assert quick(class_="wide", data_x="1") == plain(class_="wide", data_x="1")


def test_required_and_coerced_selects_render_as_wtforms_does():
    form = Required()
    assert str(form.quick()) == str(form.plain()).replace('"plain"', '"quick"')
    assert '<select id="quick" name="quick" required>' in form.quick()
    assert str(form.quick_numbers()) == str(form.plain_numbers()).replace("plain_numbers", "quick_numbers")
    assert '<option selected value="2">二</option>' in form.quick_numbers()


def test_selected_option_and_escaping():
    html = Quick(MultiDict({"field": "<b>"})).field()
    assert '<option selected value="&lt;b&gt;">A &amp; &#34;B&#34;</option>' in html
    assert '<option value="7">7</option>' in html  # an empty label shows the value, as WTForms does
    assert html.count("selected") == 1


def test_an_option_with_attributes_of_its_own_goes_through_wtforms():
    class WithAttributes(Form):
        field = SelectField(choices=[wtforms.fields.choices.SelectChoice("1", "一", render_kw={"disabled": True})])

    assert WithAttributes().field() == '<select id="field" name="field"><option disabled value="1">一</option></select>'


def test_option_tags_are_written_once_and_each_call_marks_its_own_selection():
    from app.utils.fields import _RENDERED_OPTIONS, option_tags

    choices = [("", "全部"), ("3", "印刷车间"), ("4", "模切车间")]
    _RENDERED_OPTIONS.clear()
    assert option_tags(choices, ["3"]) == ('<option value="">全部</option><option selected value="3">印刷车间</option>'
                                           '<option value="4">模切车间</option>')
    assert option_tags(list(choices), []) == ('<option value="">全部</option><option value="3">印刷车间</option>'
                                              '<option value="4">模切车间</option>')
    assert option_tags(choices, ["4"]).count("selected") == 1
    assert len(_RENDERED_OPTIONS) == 1


def test_option_tags_of_translated_labels_are_kept_per_language(app):
    from flask_babel import lazy_gettext, refresh

    from app.utils.fields import option_tags

    choices = [("", lazy_gettext("全部")), ("1", "印刷车间")]
    for language, label in (("zh_Hans_CN", "全部"), ("en", "All"), ("zh_Hans_CN", "全部")):
        with app.test_request_context(f"/?lang={language}"):
            refresh()
            assert option_tags(choices, []) == f'<option value="">{label}</option><option value="1">印刷车间</option>'
