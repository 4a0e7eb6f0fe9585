"""The build's snapshot of the first lane's import (devtools/build/first_lane_snapshot.py):
the boot writes it over MicroPython when it fits, and imports as before when it does not;
either way the lane paints, and the modules it imports later (Log in) are there."""

from __future__ import annotations

import base64

import pytest
from helpers import log_in, open_app, start_login, wait_for_lane, wait_for_state

pytestmark = pytest.mark.e2e

# The first lane's boot steps (first_lane.mjs), in order, from before the page's scripts.
RECORD_STEPS = """window.__steps = [];
addEventListener('first-lane:progress', (event) => window.__steps.push(event.detail));"""
RESTORED = "snapshot restored"
NOT_USED = "first lane: importing without the build's snapshot"


def boot_steps(page) -> list[str]:
    return page.evaluate("window.__steps")


def test_the_first_lane_starts_from_the_snapshot(page, site, provider):
    page.add_init_script(RECORD_STEPS)
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    open_app(page, site.on_demand_url, lane="first")
    assert boot_steps(page)[:4] == ["MicroPython module loaded", "MicroPython started",
                                    RESTORED, "Python imported"]
    assert NOT_USED not in messages
    # Signed in, on the first lane alone: the record read and the profile painted by the
    # modules the snapshot brought.
    log_in(page, "alice", "alice-demo")
    wait_for_lane(page, "full")
    page.reload()
    wait_for_state(page, "authenticated")
    wait_for_lane(page, "first")
    assert RESTORED in boot_steps(page)
    assert page.text_content(".nickname") == "ali"
    # Log out is the first lane's, and imports a module the snapshot left out.
    with page.expect_navigation():
        page.click(".btn-logout")
    page.wait_for_url(site.on_demand_url)
    wait_for_state(page, "anonymous")


def off_by_one_bit(route) -> None:
    """first_lane.json with one byte of the snapshot's first `before` chunk changed: the
    page's MicroPython no longer matches the state the snapshot starts from."""
    response = route.fetch()
    bundle = response.json()
    chunk = bundle["snapshot"]["chunks"][0]
    before = bytearray(base64.b64decode(chunk[1]))
    before[0] ^= 1
    chunk[1] = base64.b64encode(bytes(before)).decode()
    route.fulfill(response=response, json=bundle)


def test_a_snapshot_that_does_not_fit_is_not_written(page, site, provider):
    page.route("**/first_lane.json", off_by_one_bit)
    page.add_init_script(RECORD_STEPS)
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    open_app(page, site.on_demand_url, lane="first")
    assert RESTORED not in boot_steps(page)
    assert "Python imported" in boot_steps(page)
    assert NOT_USED in messages
    # Every module was written and imported the usual way: Log in (its own modules) works.
    start_login(page)


def last_chunk_not_base64(route) -> None:
    """first_lane.json whose snapshot fits (every `before` as it was) but whose last `after`
    is not base64: writing it throws once the other chunks are written."""
    response = route.fetch()
    bundle = response.json()
    bundle["snapshot"]["chunks"][-1][2] = "not base64!"
    route.fulfill(response=response, json=bundle)


def test_a_broken_snapshot_leaves_the_page_to_the_full_lane(page, site):
    """A snapshot the boot cannot write (a broken build, a damaged file) stops the first
    lane; the full lane decides the page and says in words what it cannot do."""
    page.route("**/first_lane.json", last_chunk_not_base64)
    open_app(page, site.on_demand_url)  # on-demand: only the failure starts Pyodide
    assert page.evaluate("document.body.getAttribute('data-full-lane')") == "no-first-lane"
