"""Fake of the robot accounts repository (ports.RobotAccounts): one per resource and type, keyed as
the store keys them, listed like the other marketplace rows."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.errors import DomainError, ValidationError
from chalicelib.domain.robot_accounts import TYPE_TAKEN, RobotAccount
from chalicelib.services.ports import UnitOfWork
from tests.fakes.marketplace import _at, _Rows, _setter
from tests.fakes.world import World, work

Slot = tuple[str, str]


class FakeRobotAccounts(_Rows[RobotAccount]):
    what = "robot accounts"

    def __init__(self, world: World) -> None:
        super().__init__(world.table("robot_accounts"))  # (resource, type) -> account
        self._by_slot: dict[Slot, RobotAccount] = self._rows

    @staticmethod
    def _slot(account: RobotAccount) -> Slot:
        return account.resource_id, account.type

    def get(self, account_id: str) -> RobotAccount | None:
        return next((a for a in self._by_slot.values() if a.id == account_id), None)

    def of_resource(self, customer_id: str, project_id: str, resource_id: str) -> list[RobotAccount]:
        wanted = (customer_id, project_id, resource_id)
        found = [a for a in self._by_slot.values() if (a.customer_id, a.project_id, a.resource_id) == wanted]
        return sorted(found, key=lambda a: a.type)

    def add(self, uow: UnitOfWork, account: RobotAccount) -> RobotAccount:
        made = replace(account, version=1)
        self._stage_new(uow, made)
        return made

    def _stage_new(self, uow: UnitOfWork, account: RobotAccount) -> None:
        slot = self._slot(account)

        def taken() -> DomainError | None:
            return ValidationError({"non_field_errors": [TYPE_TAKEN]}) if slot in self._by_slot else None

        work(uow).stage("robot_accounts", slot, taken, _setter(self._by_slot, slot, account))

    def save(self, uow: UnitOfWork, before: RobotAccount, after: RobotAccount) -> RobotAccount:
        made = replace(after, version=before.version + 1)
        old = self._slot(before)
        if old == self._slot(made):
            check = _at(self._by_slot, old, before.version)
            work(uow).stage("robot_accounts", old, check, _setter(self._by_slot, old, made))
            return made
        self.remove(uow, before)
        self._stage_new(uow, made)
        return made

    def remove(self, uow: UnitOfWork, account: RobotAccount) -> None:
        slot = self._slot(account)

        def apply() -> None:
            del self._by_slot[slot]

        work(uow).stage("robot_accounts", slot, _at(self._by_slot, slot, account.version), apply)
