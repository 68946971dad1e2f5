"""The `vidu` provider: the Vidu platform API (vidu.com / vidu.cn)."""

from vidugate.providers.vidu.client import Account
from vidugate.providers.vidu.provider import ViduProvider

__all__ = ["Account", "ViduProvider"]
