"""What several browser tests do the same way."""
import re


def kiosk_login(page, user, pin: str = "1234"):
    """Log ``user`` in at the kiosk with their employee number and PIN; the page lands on /kiosk."""
    page.goto("/kiosk/login")
    page.get_by_label("工号").fill(user.employee_no)
    page.get_by_label("PIN").fill(pin)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/kiosk$"))


# Every visible element a finger can hit that is smaller than 48 × 48 px (a radio or checkbox is hit
# through its label); the same measure as tests/browser/test_kiosk_targets_browser.py.
UNDERSIZED_TARGETS = """() => {
  const selector = "a[href], button, summary, select, textarea, input:not([type=hidden]), [tabindex]:not([tabindex='-1'])";
  return [...document.querySelectorAll(selector)]
    .map((el) => (el.type === "radio" || el.type === "checkbox") && el.closest("label") ? el.closest("label") : el)
    .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden")
    .map((el) => [el.tagName + " " + (el.textContent.trim().slice(0, 20) || el.name || el.id),
                  Math.round(el.getBoundingClientRect().width), Math.round(el.getBoundingClientRect().height)])
    .filter(([, width, height]) => width < 48 || height < 48);
}"""


def undersized_targets(page) -> list:
    return page.evaluate(UNDERSIZED_TARGETS)
