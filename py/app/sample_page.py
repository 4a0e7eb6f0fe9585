"""The sample page: the tutorial's elements, driven by the oidc_spa package.

main.py (what PyScript runs) imports this module and awaits run().

The page's state lives in <body data-session="checking|authenticated|anonymous">;
style.css shows and hides the seed's elements from it, so Python only sets that
attribute and fills the profile in, as text. While the page is open a one-second
tick keeps it true: renewal, expiry, and what other tabs did.
"""

from __future__ import annotations

import asyncio
import json
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import js  # type: ignore[import-not-found]
import page_text
from pyodide.ffi import create_proxy  # type: ignore[import-not-found]

from oidc_spa import AuthError, PopupError, Session
from oidc_spa.browser import (
    LOCAL,
    MEMORY,
    TAB,
    create_session,
    current_url,
    end_popup_login,
    keep_in_step,
    log_in_with_popup,
    navigate,
    open_popup,
    start_on_page,
)
from oidc_spa.session import SessionChange

document = js.document
UNEXPECTED = "Something went wrong on this page. Please reload it; details are in the console."
STORAGE_WARNINGS = {
    TAB: "This browser would not let the page keep your session: it ends when you close "
    "this tab.",
    MEMORY: "This browser blocks storage for this page: your session ends when you reload "
    "or leave it.",
}
NOT_SET_UP = "This page cannot sign anyone in until its settings are fixed."
NO_STORAGE_FOR_LOGIN = (
    "Signing in needs to remember the login while you are at the sign-in provider, and "
    "this browser blocks storage for this page. Allow site data for this site and try again."
)
CHANGE_MESSAGES: dict[SessionChange, str | None] = page_text.CHANGE_MESSAGES


def element(selector: str) -> Any:
    return document.querySelector(selector)


def show_state(state: str) -> None:
    page_text.show_state(document, state)


def show_message(text: str | None) -> None:
    page_text.show_message(document, text)


def show_expiry(session: Session) -> None:
    page_text.show_expiry(document, session.seconds_left, session.renews_automatically)


def show_session(session: Session) -> None:
    if session.is_authenticated and session.user is not None:
        page_text.show_profile(document, session.user)
        show_expiry(session)
        show_state("authenticated")
    else:
        element(".api-result").textContent = ""
        show_state("anonymous")


def report(error: BaseException) -> None:
    """An AuthError's own sentence, or a generic one; the details go to the console."""
    if isinstance(error, AuthError):
        js.console.warn(f"{error.code}: {error}")  # the code README lists, to look up
        show_message(error.user_message)
    else:
        js.console.error("".join(traceback.format_exception(error)))
        show_message(UNEXPECTED)


async def run_guarded(handler: Callable[[], Awaitable[None]], button: Any = None) -> None:
    """Run an async handler; its button (if any) is disabled while it runs."""
    if button is not None:
        button.disabled = True
    try:
        await handler()
    except Exception as error:
        report(error)
    finally:
        if button is not None:
            button.disabled = False


def on_click(selector: str, handler: Callable[[], Awaitable[None]],
             at_click: Callable[[], None] | None = None) -> None:
    """`handler` runs guarded; `at_click`, if any, first and synchronously in the click."""
    button = element(selector)

    def clicked(_event: Any) -> Any:
        if at_click is not None:
            at_click()
        return asyncio.ensure_future(run_guarded(handler, button))

    button.addEventListener("click", create_proxy(clicked))


def apply_change(session: Session, change: SessionChange | None) -> None:
    if change is None:
        return
    if change in CHANGE_MESSAGES:
        show_message(CHANGE_MESSAGES[change])
    show_session(session)


async def main() -> None:
    try:
        session = await create_session("auth_config.json")
    except AuthError as error:
        document.body.dataset.lane = "full"
        report(error)
        element(".btn-login").disabled = True
        element(".btn-login-popup").disabled = True
        element("#login-message").textContent = NOT_SET_UP
        show_state("anonymous")
        return
    settings, storage = session.settings, session.store.storage

    def level() -> int:  # how durable a storage the session got (it can fall back later)
        return getattr(storage, "level", LOCAL)

    try:
        result = await start_on_page(session)
        for note in result.note_messages:  # advice for the developer, not the visitor
            js.console.warn(note)
        if result.warning:  # no write otherwise: a message the first lane shows stays
            show_message(result.warning)
    except AuthError as error:
        report(error)

    if level() in STORAGE_WARNINGS and session.is_authenticated:
        show_message(STORAGE_WARNINGS[level()])
    element(".api-area").hidden = settings.api_url is None
    show_session(session)

    async def login() -> None:
        show_message(None)
        url = await session.login_url(return_to=current_url())
        if level() == MEMORY:  # the login would be forgotten on the way back
            show_message(NO_STORAGE_FOR_LOGIN)
            return
        navigate(url)

    def popup_cut_off(notice: PopupError) -> None:
        """The popup no longer reports here (COOP) but may still answer: say so, and let
        the user start another login meanwhile."""
        js.console.warn(f"{notice.code}: {notice}")
        show_message(notice.user_message)
        element(".btn-login-popup").disabled = False

    async def login_in_popup(popup: Any = None) -> None:
        """The popup was opened at the click (here, or by the first lane: then None, and
        log_in_with_popup takes the window of that name over). The page does not reload."""
        show_message(None)
        try:
            result = await log_in_with_popup(session, popup, on_cut_off=popup_cut_off)
        except PopupError as error:
            if error.code == "popup.superseded":  # a newer login owns the page now
                return
            raise
        for note in result.note_messages:
            js.console.warn(note)
        show_message(result.warning)  # and no cut-off notice any more
        show_session(session)

    def popup_clicked(_event: Any) -> Any:
        popup = open_popup()  # synchronously, inside the click: else the browser blocks it
        end_popup_login(session, keep_window=popup)  # now: no old answer slips in
        button = element(".btn-login-popup")
        return asyncio.ensure_future(run_guarded(lambda: login_in_popup(popup), button))

    async def logout() -> None:
        show_message(None)
        try:
            provider_logout = await session.logout()
        finally:
            show_session(session)  # signed out here even if the provider is unreachable
        if provider_logout:
            navigate(provider_logout)

    async def call_api() -> None:
        assert settings.api_url is not None
        output = element(".api-result")
        output.textContent = "Calling…"
        try:
            response = await session.fetch(settings.api_url)
        except Exception:
            output.textContent = ""
            raise
        try:
            body = json.dumps(json.loads(response.text), indent=2, ensure_ascii=False)
        except ValueError:
            body = response.text
        output.textContent = f"HTTP {response.status}\n{body}"
        show_session(session)  # a renewal or a logout may have happened on the way

    # Taking over from the first lane (first_lane.py) happens here, in one synchronous
    # step, so a click goes to exactly one lane; a click it queued runs now.
    document.body.dataset.lane = "full"
    on_click(".btn-login", login, at_click=lambda: end_popup_login(session))
    on_click(".btn-logout", logout)
    on_click(".btn-call-api", call_api)
    element(".btn-login-popup").addEventListener("click", create_proxy(popup_clicked))
    queued = {"login": login, "logout": logout, "call-api": call_api,
              "login-popup": login_in_popup}.get(
        document.body.getAttribute("data-queued") or "")
    if queued is not None:
        document.body.removeAttribute("data-queued")
        queued_run = asyncio.ensure_future(run_guarded(queued))
        if queued is not login_in_popup:  # a popup login may wait minutes: it runs beside
            await queued_run              # keep_in_step
    keep_in_step(session, lambda change: apply_change(session, change),
                 on_tick=lambda: show_expiry(session) if session.is_authenticated else None)


async def run() -> None:
    """The page's entry point: never lets an exception reach PyScript's error banner."""
    try:
        await main()
    except Exception as error:
        document.body.dataset.lane = "full"
        report(error)
        if document.body.dataset.session == "checking":
            show_state("anonymous")
