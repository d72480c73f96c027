"""部门 (/admin/departments) and 工序 (/admin/processes): thin views over their services."""
from urllib.parse import quote

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp
from app.admin.common import commit_and_finish, list_args, list_query, render, save
from app.admin.forms import DepartmentFilter, DepartmentForm, ProcessFilter, ProcessForm
from app.enums import PlateKind
from app.extensions import db
from app.models import Department, Process
from app.services.admin import departments as admin_departments
from app.services.admin import processes as admin_processes
from app.services.admin.master_data import ids
from app.utils.wording import named, tree_indent

NO_PARENT = ("", "—")


# ---------------------------------------------------------------- departments

@bp.route("/admin/departments")
def departments():
    query = list_query("active")
    return render("admin/departments/index.html", "admin/departments/_list.html", title=_("部门"),
                  form=DepartmentFilter(request.args), page=admin_departments.tree(query), query=list_args())


def _department_form_page(form, department=None, status=200):
    form.parent_id.choices = [NO_PARENT] + [
        (str(d.id), tree_indent(depth - 1) + d.name) for d, depth in admin_departments.parent_options(department)]
    form.processes.choices = [(str(p.id), named(p.name, p.code)) for p in admin_departments.all_processes()]
    if department is not None:
        form.code.description = _("部门编码创建后不可修改")
    title = _("编辑部门：%(name)s", name=department.name) if department else _("新建部门")
    return render("admin/form_page.html", "admin/departments/_form.html", status, title=title, form=form,
                  department=department, back=url_for("admin.departments"))


@bp.route("/admin/departments/new")
def department_new():
    form = DepartmentForm(formdata=None, data={"parent_id": request.args.get("parent", "")})
    return _department_form_page(form)


@bp.route("/admin/departments", methods=["POST"])
def department_create():
    form = DepartmentForm()
    return save(form, lambda: admin_departments.create_department(current_user, form.data),
                lambda status: _department_form_page(form, None, status),
                lambda d: _("已创建部门：%(name)s", name=d.name), url_for("admin.departments"), creates=Department)


@bp.route("/admin/departments/<int:department_id>/edit")
def department_edit(department_id: int):
    department = admin_departments.get_department(department_id)
    return _department_form_page(DepartmentForm.of(department), department)


@bp.route("/admin/departments/<int:department_id>", methods=["POST"])
def department_update(department_id: int):
    department = admin_departments.get_department(department_id)
    form = DepartmentForm()
    return save(form, lambda: admin_departments.update_department(current_user, department, form.data),
                lambda status: _department_form_page(form, department, status),
                lambda d: _("已保存部门：%(name)s", name=d.name), url_for("admin.departments"))


@bp.route("/admin/departments/<int:department_id>/delete", methods=["POST"])
def department_delete(department_id: int):
    department = admin_departments.get_department(department_id)
    name = department.name
    admin_departments.delete_department(current_user, department)
    return commit_and_finish(_("已删除部门：%(name)s", name=name), "admin.departments")


# ---------------------------------------------------------------- processes

@bp.route("/admin/processes")
def processes():
    query = list_query("active", "builtin", "parallel", "plate")
    # Dragging rewrites the catalogue order, which only makes sense while the list shows that order.
    sortable = query.sort in ("", "sort") and not query.search
    return render("admin/processes/index.html", "admin/processes/_list.html", title=_("工序"),
                  form=ProcessFilter(request.args), page=admin_processes.list_processes(query), query=list_args(),
                  sortable=sortable, PlateKind=PlateKind)


def _process_form_page(form, process=None, status=200):
    title = _("编辑工序：%(name)s", name=process.name) if process else _("新建工序")
    return render("admin/form_page.html", "admin/processes/_form.html", status, title=title, form=form,
                  process=process, in_use=process is not None and admin_processes.is_in_use(process),
                  back=url_for("admin.processes"))


@bp.route("/admin/processes/new")
def process_new():
    return _process_form_page(ProcessForm(formdata=None))


@bp.route("/admin/processes", methods=["POST"])
def process_create():
    form = ProcessForm()
    return save(form, lambda: admin_processes.create_process(current_user, form.data),
                lambda status: _process_form_page(form, None, status),
                lambda p: _("已创建工序：%(name)s", name=p.name), url_for("admin.processes"), creates=Process)


@bp.route("/admin/processes/<int:process_id>/edit")
def process_edit(process_id: int):
    process = admin_processes.get_process(process_id)
    return _process_form_page(ProcessForm(formdata=None, obj=process), process)


@bp.route("/admin/processes/<int:process_id>", methods=["POST"])
def process_update(process_id: int):
    process = admin_processes.get_process(process_id)
    form = ProcessForm()
    return save(form, lambda: admin_processes.update_process(current_user, process, form.data),
                lambda status: _process_form_page(form, process, status),
                lambda p: _("已保存工序：%(name)s", name=p.name), url_for("admin.processes"))


@bp.route("/admin/processes/<int:process_id>/delete", methods=["POST"])
def process_delete(process_id: int):
    process = admin_processes.get_process(process_id)
    name = process.name
    admin_processes.delete_process(current_user, process)
    return commit_and_finish(_("已删除工序：%(name)s", name=name), "admin.processes")


@bp.route("/admin/processes/reorder", methods=["POST"])
def process_reorder():
    """Posted by static/js/sortable.js after a drag or an up/down move: the shown ids in their new order."""
    admin_processes.reorder(current_user, ids(request.form.getlist("id")))
    db.session.commit()
    return "", 204, {"X-Message": quote(_("工序顺序已保存"))}
