"""Lifecycle mutations (merged into the root Mutation): configuration, alerts, reasons, recompute."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from api.context import Info
from api.permissions import ADMIN_ONLY, FOR_CAMPAIGNS
from api.types.lifecycle import Alert, AlertStatus, LifecycleConfig, Reason, ReasonCode, ReasonKind, RecomputeSummary
from api.types.results import CustomerNotFound, InvalidInput
from services import errors
from services.lifecycle.alerts import AlertClosed as AlertClosedError
from services.lifecycle.alerts import AlertNotFound as AlertNotFoundError


@strawberry.input(description="Only the thresholds sent change; the others keep their value.")
class LifecycleConfigInput:
    churn_horizon_days: float | None = strawberry.UNSET
    retention_tenure_days: float | None = strawberry.UNSET
    retention_min_purchases: int | None = strawberry.UNSET
    reactivated_days: float | None = strawberry.UNSET
    negative_survey_max_score: int | None = strawberry.UNSET
    inactivity_gap_multiplier: float | None = strawberry.UNSET
    inactivity_floor_days: float | None = strawberry.UNSET
    alert_lookback_days: float | None = strawberry.UNSET
    alert_ttl_days: float | None = strawberry.UNSET
    rfm_window_days: float | None = strawberry.UNSET
    tier_platinum_share: float | None = strawberry.UNSET
    tier_gold_share: float | None = strawberry.UNSET
    tier_silver_share: float | None = strawberry.UNSET

    def changes(self) -> dict[str, Any]:
        return {
            name: getattr(self, name) for name in type(self).__annotations__
            if getattr(self, name) is not strawberry.UNSET
        }


@strawberry.input
class ReasonInput:
    external_id: str
    kind: ReasonKind
    code: str
    text: str | None = None
    at: datetime | None = None


@strawberry.input
class ReasonCodeInput:
    kind: ReasonKind
    code: str
    label: str


@strawberry.type
class AlertNotFound:
    message: str
    id: strawberry.ID


@strawberry.type(description="The alert is already RESOLVED or EXPIRED.")
class AlertClosed:
    message: str
    status: AlertStatus


ConfigureLifecycleResult = Annotated[LifecycleConfig | InvalidInput, strawberry.union("ConfigureLifecycleResult")]
AlertResult = Annotated[Alert | AlertNotFound | AlertClosed | InvalidInput, strawberry.union("AlertResult")]
RecordReasonResult = Annotated[Reason | CustomerNotFound | InvalidInput, strawberry.union("RecordReasonResult")]
ReasonCodeResult = Annotated[ReasonCode | InvalidInput, strawberry.union("ReasonCodeResult")]


def _alert_id(value: strawberry.ID) -> int:
    try:
        return int(value)
    except ValueError:
        raise errors.InvalidInput("id", f"not an alert id: {value!r}") from None


@strawberry.type
class LifecycleMutation:
    @strawberry.mutation(permission_classes=[ADMIN_ONLY], description="Change lifecycle thresholds (admin). Run recomputeLifecycle to apply them to everyone now.")
    async def configure_lifecycle(self, info: Info, input: LifecycleConfigInput) -> ConfigureLifecycleResult:
        try:
            config = await info.context.services.lifecycle.configure(input.changes())
        except errors.InvalidInput as exc:
            return InvalidInput.from_error(exc)
        return LifecycleConfig.from_domain(config)

    @strawberry.mutation(permission_classes=[ADMIN_ONLY], description="Recompute stages, alerts, scores and rule segments from the timeline (admin).")
    async def recompute_lifecycle(self, info: Info) -> RecomputeSummary:
        return RecomputeSummary.from_domain(await info.context.services.lifecycle.recompute())

    @strawberry.mutation(permission_classes=[FOR_CAMPAIGNS], description="Someone is acting on this alert; it stays active.")
    async def action_alert(self, info: Info, id: strawberry.ID, note: str | None = None) -> AlertResult:
        return await _move(info, id, note, resolve=False)

    @strawberry.mutation(permission_classes=[FOR_CAMPAIGNS], description="Close an alert by hand.")
    async def resolve_alert(self, info: Info, id: strawberry.ID, note: str | None = None) -> AlertResult:
        return await _move(info, id, note, resolve=True)

    @strawberry.mutation(permission_classes=[FOR_CAMPAIGNS], description="Record why a customer left (CHURN) or a prospect dropped out (LOST_PROSPECT).")
    async def record_reason(self, info: Info, input: ReasonInput) -> RecordReasonResult:
        try:
            reason = await info.context.services.reasons.record(
                input.external_id, input.kind.value, input.code, input.text, input.at
            )
        except errors.CustomerNotFound as exc:
            return CustomerNotFound.from_error(exc)
        except errors.InvalidInput as exc:
            return InvalidInput.from_error(exc)
        return Reason.from_domain(reason)

    @strawberry.mutation(permission_classes=[ADMIN_ONLY], description="Add a code to the reason taxonomy (or relabel one).")
    async def add_reason_code(self, info: Info, input: ReasonCodeInput) -> ReasonCodeResult:
        try:
            code = await info.context.services.reasons.add_code(input.kind.value, input.code, input.label)
        except errors.InvalidInput as exc:
            return InvalidInput.from_error(exc)
        return ReasonCode.from_domain(code)


async def _move(info: Info, id: strawberry.ID, note: str | None, *, resolve: bool) -> AlertResult:
    alerts = info.context.services.alerts
    try:
        alert_id = _alert_id(id)
        alert = await (alerts.resolve if resolve else alerts.action)(alert_id, note)
    except AlertNotFoundError as exc:
        return AlertNotFound(message=exc.message, id=strawberry.ID(str(exc.alert_id)))
    except AlertClosedError as exc:
        return AlertClosed(message=exc.message, status=AlertStatus(exc.status))
    except errors.InvalidInput as exc:
        return InvalidInput.from_error(exc)
    return Alert.from_domain(alert)
