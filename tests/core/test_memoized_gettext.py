"""``app.views.memoized_gettext`` (the kiosk's and the task page's ``gettext=``) words every text exactly as
Flask-Babel's own ``_()`` does: translated, escaped, its variables put in, in each language."""
import pytest
from flask import render_template_string

from app.views import memoized_gettext

TEMPLATE = ("{{ _('暂停原因：%(reason)s', reason=reason) }}|{{ _('报工') }}|{{ _('报工') }}|"
            "{{ _('剩余 %(n)s', n=3) }}|{{ _('未知的文字 <b>') }}")


@pytest.mark.parametrize("language", ["zh_Hans_CN", "en"])
def test_the_memo_words_every_text_as_flask_babel_does(app, db, language):
    with app.test_request_context(f"/?lang={language}"):
        from flask_babel import force_locale

        with force_locale(language):
            plain = render_template_string(TEMPLATE, reason="<版>")
            memoized = render_template_string(TEMPLATE, reason="<版>", gettext=memoized_gettext())
    assert memoized == plain
    assert "&lt;版&gt;" in plain
    assert ("Report Work" in plain) == (language == "en")
