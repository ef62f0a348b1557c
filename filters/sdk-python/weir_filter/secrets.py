"""Secrets (grants.secrets). Declare "secrets" in the filter's pyproject.toml
(`[tool.weir] capabilities = ["secrets"]`).

    from weir_filter import secrets
    key = secrets.get_string("api_key")
"""

from componentize_py_types import Err

try:
    from wit_world.imports import secrets as _secrets
except ImportError as error:  # the world was built without the capability
    raise ImportError(
        'weir_filter.secrets needs the secrets capability: add "secrets" to [tool.weir] capabilities in pyproject.toml'
    ) from error

from . import as_text


class SecretError(Exception):
    """The secret is not granted or missing; the message names it."""


def get(name: str) -> bytes:
    try:
        return _secrets.get(name)
    except Err as error:
        raise SecretError(str(error.value)) from None


def get_string(name: str) -> str:
    return as_text(get(name))
