"""The upstream accounts as the operator sees them (GET /admin/v1/upstream/accounts): each
account the settings give the gateway, with its shared health and credits from the store
(store/accounts.py), its slots and how they are used (store/slot_use.py); and the two things
an operator does to one: say it is fine again (`reset`: health back to active, picked up by
every process at its next look at the store, within seconds) and read its credits now.

The sandbox has a line of its own (id `sandbox`): it is the default provider, and so a
fresh install's page is not empty. It has no health to reset and no credits to read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from vidugate.clock import Clock
from vidugate.domain.accounts import (
    AccountHealth,
    AccountLine,
    AccountState,
    ConfiguredAccount,
    StoredAccount,
)
from vidugate.errors import InvalidRequestError, NotFoundError
from vidugate.logs import get_logger
from vidugate.providers.base import CreditReader, Provider
from vidugate.settings import Settings
from vidugate.store.accounts import AccountRepository
from vidugate.store.slot_use import SlotUse

log = get_logger("vidugate.upstream")

SANDBOX = "sandbox"
RESET_REASON = "reset by an operator"


def configured_accounts(settings: Settings) -> list[ConfiguredAccount]:
    """The Vidu accounts (when the vidu provider is configured), then the sandbox."""
    vidu = [
        ConfiguredAccount(a.id, "vidu", a.concurrency, a.base_url)
        for a in settings.all_vidu_accounts()
    ]
    return [*vidu, ConfiguredAccount(SANDBOX, SANDBOX, settings.sandbox_concurrency)]


class UpstreamAccounts:
    def __init__(
        self,
        configured: Sequence[ConfiguredAccount],
        states: AccountRepository,
        slots: Callable[[], Awaitable[SlotUse]],
        providers: Mapping[str, Provider],
        *,
        clock: Clock,
    ) -> None:
        self.configured = {account.id: account for account in configured}
        self.states = states
        self.slots = slots
        self.providers = providers
        self.clock = clock

    async def lines(self) -> list[AccountLine]:
        """Every configured account's line, in the settings' order."""
        stored = {(s.state.provider, s.state.id): s for s in await self.states.stored()}
        use = await self.slots()
        return [
            self._line(a, stored.get((a.provider, a.id)), use) for a in self.configured.values()
        ]

    async def line(self, account_id: str) -> AccountLine:
        account = self._account(account_id)
        for line in await self.lines():
            if line.account == account:
                return line
        raise NotFoundError(f"No upstream account {account_id!r}.", param="account_id")

    async def reset(self, account_id: str) -> AccountLine:
        """The operator says the account is fine again: active, with no time to wait."""
        account = self._account(account_id)
        if account.base_url is not None:  # the sandbox has no health to reset
            await self.states.save(
                AccountState(
                    id=account.id,
                    provider=account.provider,
                    health=AccountHealth.ACTIVE,
                    reason=RESET_REASON,
                    until=None,
                    updated_at=self.clock.now(),
                )
            )
            log.info("upstream.account_reset", account=account.id, provider=account.provider)
        return await self.line(account_id)

    async def refresh_credits(self, account_id: str) -> AccountLine:
        """Read the account's credits from its upstream now (a 400 for an account that has
        none, the sandbox's; the upstream's own error when it does not answer)."""
        account = self._account(account_id)
        provider = self.providers.get(account.provider)
        if not isinstance(provider, CreditReader):
            raise InvalidRequestError(
                f"The upstream account {account_id!r} ({account.provider}) has no credits "
                "to read: only Vidu accounts do.",
                param="account_id",
            )
        await provider.read_credits(account.id)
        return await self.line(account_id)

    def _account(self, account_id: str) -> ConfiguredAccount:
        account = self.configured.get(account_id)
        if account is None:
            raise NotFoundError(f"No upstream account {account_id!r}.", param="account_id")
        return account

    @staticmethod
    def _line(
        account: ConfiguredAccount, stored: StoredAccount | None, use: SlotUse
    ) -> AccountLine:
        # The sandbox's renders are one pool per process, named after the process: every
        # unfinished sandbox task is on its one line.
        on = None if account.base_url is None else account.id
        return AccountLine(
            account=account,
            stored=stored,
            running=use.running_on(account.provider, on),
            waiting=use.waiting.get(account.provider, 0),
        )
