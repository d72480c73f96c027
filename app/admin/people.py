"""人员管理 (/admin/users): thin views over app.services.admin.users."""
from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp
from app.admin.common import commit_and_finish, list_args, list_query, render, save
from app.admin.forms import ALL, UserFilter, UserForm, filter_form
from app.enums import RoleCode
from app.models import User
from app.services.admin import departments as admin_departments
from app.services.admin import users as service
from app.utils.wording import tree_indent
from app.views import keep_this_session


def _department_choices() -> list[tuple[str, str]]:
    """Departments in tree order, indented so the hierarchy shows in a flat list."""
    return [(str(d.id), tree_indent(depth - 1) + d.name) for d, depth in admin_departments.parent_options()]


@bp.route("/admin/users")
def users():
    form = filter_form(UserFilter, request.args, department=[ALL, *_department_choices()])
    query = list_query("role", "active", ids=("department",))
    return render("admin/users/index.html", "admin/users/_list.html", title=_("人员"), form=form,
                  page=service.list_users(query), query=list_args(), RoleCode=RoleCode)


def _form_page(form, user=None, status=200):
    form.departments.choices = _department_choices()
    form.describe_secrets(editing=user is not None)
    title = _("编辑人员：%(name)s", name=user.name) if user else _("新建人员")
    return render("admin/form_page.html", "admin/users/_form.html", status, title=title, form=form, user=user,
                  back=url_for("admin.users"))


@bp.route("/admin/users/new")
def user_new():
    return _form_page(UserForm(formdata=None))


@bp.route("/admin/users", methods=["POST"])
def user_create():
    form = UserForm()
    return save(form, lambda: service.create_user(current_user, form.data),
                lambda status: _form_page(form, None, status),
                lambda user: _("已创建人员：%(name)s", name=user.name), url_for("admin.users"), creates=User)


@bp.route("/admin/users/<int:user_id>/edit")
def user_edit(user_id: int):
    user = service.get_user(user_id)
    return _form_page(UserForm.of(user), user)


@bp.route("/admin/users/<int:user_id>", methods=["POST"])
def user_update(user_id: int):
    user = service.get_user(user_id)
    form = UserForm()
    return save(form, lambda: _update_keeping_own_session(user, form.data),
                lambda status: _form_page(form, user, status),
                lambda saved: _("已保存人员：%(name)s", name=saved.name), url_for("admin.users"))


def _update_keeping_own_session(user, data: dict):
    saved = service.update_user(current_user, user, data)
    keep_this_session(saved)
    return saved


@bp.route("/admin/users/<int:user_id>/deactivate", methods=["POST"])
def user_deactivate(user_id: int):
    user = service.get_user(user_id)
    service.set_active(current_user, user, False)
    return commit_and_finish(_("已停用：%(name)s", name=user.name), "admin.users")


@bp.route("/admin/users/<int:user_id>/activate", methods=["POST"])
def user_activate(user_id: int):
    user = service.get_user(user_id)
    service.set_active(current_user, user, True)
    return commit_and_finish(_("已启用：%(name)s", name=user.name), "admin.users")


@bp.route("/admin/users/<int:user_id>/delete", methods=["POST"])
def user_delete(user_id: int):
    user = service.get_user(user_id)
    name = user.name
    service.delete_user(current_user, user)
    return commit_and_finish(_("已删除人员：%(name)s", name=name), "admin.users")
