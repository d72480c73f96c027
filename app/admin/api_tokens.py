"""API 令牌 (/admin/api-tokens): create a token for a user (its secret shown once), list, revoke."""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField

from app.admin import bp
from app.admin.common import attach_errors, commit_and_finish, finished, render
from app.extensions import db
from app.models import ApiToken
from app.services.admin import api_tokens
from app.services.core.errors import Invalid
from app.utils.fields import CreateOnceMixin, SelectField
from app.utils.wording import named
from app.views import create_once


class ApiTokenForm(CreateOnceMixin, FlaskForm):
    name = StringField(_l("名称"), description=_l("用途，例如：ERP 同步、扫码枪 3 号"))
    owner_id = SelectField(_l("所属用户"), validate_choice=False,
                           description=_l("令牌以该用户的身份和权限访问 API"))
    expires_on = StringField(_l("有效期至"), render_kw={"type": "date"},
                             description=_l("可选：过了这一天令牌自动失效；留空则一直有效，直到吊销"))


@bp.route("/admin/api-tokens")
def api_tokens_list():
    return render("admin/api_tokens/index.html", title=_("API 令牌"), tokens=api_tokens.list_tokens(),
                  last_day=api_tokens.last_day)


def _token_form_page(form, status=200):
    form.owner_id.choices = [("", "—")] + [(str(u.id), named(u.name, u.username)) for u in api_tokens.owner_options()]
    return render("admin/form_page.html", "admin/api_tokens/_form.html", status, title=_("新建 API 令牌"), form=form,
                  back=url_for("admin.api_tokens_list"))


@bp.route("/admin/api-tokens/new")
def api_token_new():
    return _token_form_page(ApiTokenForm(formdata=None))


@bp.route("/admin/api-tokens", methods=["POST"])
def api_token_create():
    form = ApiTokenForm()
    try:
        outcome = create_once(ApiToken, lambda: api_tokens.create(current_user, form.data),
                              result_id=lambda created: created.token.id)
    except Invalid as error:
        db.session.rollback()
        attach_errors(form, error)
        return _token_form_page(form, 422)
    db.session.commit()
    if outcome.replayed:  # the secret was shown to the first post and is not kept: it cannot be shown again
        return finished(_("该令牌已创建（%(name)s），密钥只在创建时显示一次", name=outcome.record.name),
                        url_for("admin.api_tokens_list"))
    created = outcome.record
    # Rendered, not flashed: the secret must not travel in the session cookie or survive a reload.
    html, status = render("admin/form_page.html", "admin/api_tokens/_created.html", title=_("API 令牌已创建"),
                          token=created.token, secret=created.secret, back=url_for("admin.api_tokens_list"))
    return html, status, {"Cache-Control": "no-store"}


@bp.route("/admin/api-tokens/<int:token_id>/revoke", methods=["POST"])
def api_token_revoke(token_id: int):
    token = api_tokens.revoke(current_user, token_id)
    return commit_and_finish(_("已吊销令牌：%(name)s", name=token.name), "admin.api_tokens_list")
