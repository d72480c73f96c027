from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(message=_l("请输入用户名"))])
    password = PasswordField(_l("密码"), validators=[DataRequired(message=_l("请输入密码"))])
    submit = SubmitField(_l("登录"))


class KioskLoginForm(FlaskForm):
    employee_no = StringField(_l("工号"), validators=[DataRequired(message=_l("请输入工号或刷工牌"))])
    pin = PasswordField(
        _l("PIN"),
        validators=[
            DataRequired(message=_l("请输入 PIN")),
            Length(min=4, max=6, message=_l("PIN 为 4–6 位数字")),
            Regexp(r"^\d+$", message=_l("PIN 为 4–6 位数字")),
        ],
    )
    # Optional (DOMAIN.md §12): the terminal's workstation; choices are set by the view.
    workstation_id = SelectField(_l("本机机台（可选）"), validate_choice=False)
    submit = SubmitField(_l("登录"))
