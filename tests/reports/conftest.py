"""The reports tests (statistics, exports, 工作台) all read the hand-built plant of support/reports_world.py."""
import pytest


@pytest.fixture()
def world(reports_world):
    return reports_world
