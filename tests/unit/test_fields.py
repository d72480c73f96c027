"""app.utils.fields.SelectField: its quick option renderer writes exactly what WTForms' would."""
import pytest
import wtforms
from werkzeug.datastructures import MultiDict
from wtforms import Form

from app.utils.fields import SelectField

CHOICES = [("", "全部"), ("3", "印刷车间"), ("<b>", 'A & "B"'), ("7", "")]


class Quick(Form):
    field = SelectField(choices=CHOICES, validate_choice=False)


class Plain(Form):
    field = wtforms.SelectField(choices=CHOICES, validate_choice=False)


@pytest.mark.parametrize("data", [{}, {"field": "3"}, {"field": "<b>"}, {"field": "none of them"}])
def test_quick_select_renders_what_wtforms_renders(data):
    quick, plain = Quick(MultiDict(data)).field, Plain(MultiDict(data)).field
    assert quick(class_="wide") == plain(class_="wide")


def test_selected_option_and_escaping():
    html = Quick(MultiDict({"field": "<b>"})).field()
    assert '<option selected value="&lt;b&gt;">A &amp; &#34;B&#34;</option>' in html
    assert '<option value="7">7</option>' in html  # an empty label shows the value, as WTForms does
    assert html.count("selected") == 1


def test_an_option_with_attributes_of_its_own_goes_through_wtforms():
    class WithAttributes(Form):
        field = SelectField(choices=[wtforms.fields.choices.SelectChoice("1", "一", render_kw={"disabled": True})])

    assert WithAttributes().field() == '<select id="field" name="field"><option disabled value="1">一</option></select>'
