"""The sample page: the tutorial's elements, driven by the oidc_spa package.

The page's state lives in <body data-session="checking|authenticated|anonymous">;
style.css shows and hides the seed's elements from it, so Python only sets that
attribute and fills the profile in, as text.
"""

from __future__ import annotations

import asyncio
import json
import traceback
from typing import Any

import js  # type: ignore[import-not-found]
from pyodide.ffi import create_proxy  # type: ignore[import-not-found]

from oidc_spa import AuthError, Session, parse_settings
from oidc_spa.browser import (
    MEMORY,
    TAB,
    BrowserHttp,
    WebCryptoVerifier,
    current_url,
    fetch_text,
    navigate,
    page_storage,
    replace_url,
)
from oidc_spa.urls import is_secure_url

document = js.document
PLACEHOLDER_AVATAR = "./avatar-placeholder.svg"
UNEXPECTED = "Something went wrong on this page. Please reload it; details are in the console."
STORAGE_WARNINGS = {
    TAB: "This browser would not let the page keep your session: it ends when you close "
    "this tab.",
    MEMORY: "This browser blocks storage for this page: your session ends when you reload "
    "or leave it.",
}
NO_STORAGE_FOR_LOGIN = (
    "Signing in needs to remember the login while you are at the sign-in provider, and "
    "this browser blocks storage for this page. Allow site data for this site and try again."
)


def element(selector: str) -> Any:
    return document.querySelector(selector)


def show_state(state: str) -> None:
    document.body.dataset.session = state


def show_message(text: str | None) -> None:
    """The one place for errors and warnings; role=alert makes screen readers say it."""
    alert = element("#auth-error")
    alert.textContent = text or ""
    alert.hidden = not text


def show_profile(profile: dict[str, Any]) -> None:
    picture = profile.get("picture")
    # Only a web address may become the image source: never javascript: or data:.
    avatar_ok = isinstance(picture, str) and is_secure_url(picture)
    element(".avatar").src = picture if avatar_ok else PLACEHOLDER_AVATAR
    element(".nickname").textContent = _first_text(profile, "nickname", "name", "email", "sub")
    element(".email").textContent = _first_text(profile, "email")
    element(".full-profile").textContent = json.dumps(profile, indent=2, ensure_ascii=False)


def show_session(session: Session) -> None:
    if session.is_authenticated and session.user is not None:
        show_profile(session.user)
        show_state("authenticated")
    else:
        show_state("anonymous")


def _first_text(profile: dict[str, Any], *names: str) -> str:
    for name in names:
        value = profile.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def on_click(selector: str, handler: Any) -> None:
    """Run an async handler on click; the button is disabled while it runs."""

    async def guarded(button: Any) -> None:
        button.disabled = True
        try:
            await handler()
        except AuthError as error:
            js.console.warn(str(error))
            show_message(error.user_message)
        except Exception:
            js.console.error(traceback.format_exc())
            show_message(UNEXPECTED)
        finally:
            button.disabled = False

    button = element(selector)
    button.addEventListener(
        "click", create_proxy(lambda _event: asyncio.ensure_future(guarded(button)))
    )


async def main() -> None:
    storage = page_storage()
    try:
        settings = parse_settings(await fetch_text("auth_config.json"), current_url())
    except AuthError as error:
        js.console.warn(str(error))
        show_message(error.user_message)
        element(".btn-login").disabled = True
        show_state("anonymous")
        return
    session = Session(
        settings, storage=storage, http=BrowserHttp(), verifier=WebCryptoVerifier()
    )
    try:
        result = await session.start(current_url())
    except AuthError as error:
        js.console.warn(str(error))
        replace_url(Session.error_clean_url(current_url()))
        show_message(error.user_message)
    else:
        if result.clean_url:
            replace_url(result.clean_url)
        show_message(result.warning)
    if storage.level in STORAGE_WARNINGS and session.is_authenticated:
        show_message(STORAGE_WARNINGS[storage.level])
    show_session(session)

    async def login() -> None:
        show_message(None)
        url = await session.login_url(return_to=current_url())
        if storage.level == MEMORY:  # the login would be forgotten on the way back
            show_message(NO_STORAGE_FOR_LOGIN)
            return
        navigate(url)

    async def logout() -> None:
        show_message(None)
        try:
            provider_logout = await session.logout()
        finally:
            show_session(session)  # signed out here even if the provider is unreachable
        if provider_logout:
            navigate(provider_logout)

    on_click(".btn-login", login)
    on_click(".btn-logout", logout)


try:
    await main()  # noqa: F704 - PyScript runs this file with top-level await
except Exception:
    js.console.error(traceback.format_exc())
    show_message(UNEXPECTED)
    if document.body.dataset.session == "checking":
        show_state("anonymous")
