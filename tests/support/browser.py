"""What several browser tests do the same way."""
import re


def kiosk_login(page, user, pin: str = "1234"):
    """Log ``user`` in at the kiosk with their employee number and PIN; the page lands on /kiosk."""
    page.goto("/kiosk/login")
    page.get_by_label("工号").fill(user.employee_no)
    page.get_by_label("PIN").fill(pin)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/kiosk$"))
