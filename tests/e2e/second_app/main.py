"""A second app on the oidc_spa wheel: log in, show the user's name, call an API, log out."""

from pyscript import document, when

from oidc_spa import AuthError
from oidc_spa.browser import create_session, current_url, keep_in_step, navigate, start_on_page


def show(message: str = "") -> None:
    user = session.user
    document.querySelector("#name").textContent = user.get("name", user["sub"]) if user else ""
    document.querySelector("#message").textContent = message
    for selector, visible in (("#login", not user), ("#call-api", user), ("#logout", user)):
        document.querySelector(selector).hidden = not visible


@when("click", "#login")
async def login() -> None:
    navigate(await session.login_url(return_to=current_url()))


@when("click", "#call-api")
async def call_api() -> None:
    try:
        response = await session.fetch(session.settings.api_url)
        show(f"HTTP {response.status}: {response.text}")
    except AuthError as error:
        show(error.user_message)


@when("click", "#logout")
async def logout() -> None:
    provider_logout = await session.logout()
    show()
    if provider_logout:
        navigate(provider_logout)


try:
    session = await create_session()  # noqa: F704 - PyScript runs this file with top-level await
except AuthError as error:  # auth_config.json missing or wrong
    document.querySelector("#message").textContent = error.user_message
else:
    try:
        result = await start_on_page(session)  # noqa: F704 - finishes a login, or restores one
        show(result.warning or "")
    except AuthError as error:  # a refused or broken login: say why
        show(error.user_message)
    keep_in_step(session, lambda change: show(f"Session {change}."))
