"""A hypothesis strategy for plant calendars (排产): any week of working windows and some closed dates."""
from datetime import date

from hypothesis import strategies as st

from app.services.planning.calendar import DEFAULT_HOURS, PlantCalendar

_minute_of_day = st.integers(min_value=0, max_value=24 * 60)


@st.composite
def calendars(draw, with_default_hours: bool = False) -> PlantCalendar:
    """Any week of windows (adjacent ones, midnight-to-midnight, empty days) and some closed dates; with
    ``with_default_hours``, the plant's default week half of the time."""
    if with_default_hours and draw(st.booleans()):
        hours = DEFAULT_HOURS
    else:
        hours = {}
        for day in range(7):
            bounds = sorted(set(draw(st.lists(_minute_of_day, max_size=6))))
            spans = list(zip(bounds[::2], bounds[1::2], strict=False))
            hours[day] = [(f"{a // 60:02d}:{a % 60:02d}", f"{b // 60:02d}:{b % 60:02d}") for a, b in spans if a < b]
    closed = draw(st.lists(st.dates(min_value=date(2026, 12, 1), max_value=date(2027, 1, 31)), max_size=10))
    return PlantCalendar.from_hours(hours, closed)
