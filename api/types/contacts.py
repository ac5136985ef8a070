"""Contact-policy types: the policy, its limits and channels, and a customer's contact history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.types.offers import Decision
from api.types.results import InvalidInput
from services.offers import contact_policy as policies
from services.offers import values


@strawberry.type(description="At most maxContacts offers in periodDays days, on one channel or (null) on every channel together.")
class ContactLimit:
    max_contacts: int
    period_days: int
    channel: str | None


@strawberry.input
class ContactLimitInput:
    max_contacts: int
    period_days: int
    channel: str | None = strawberry.field(default=None, description="Count and limit only this channel; null: every channel together.")


@strawberry.type
class LeverChannel:
    lever: str
    channel: str


@strawberry.input
class LeverChannelInput:
    lever: str
    channel: str


@strawberry.type(description="The global contact policy (decisionPoint null) or a decision point's.")
class ContactPolicy:
    decision_point: str | None
    channel: str = strawberry.field(description="The channel of this decision point's offers (global: unused).")
    lever_channels: list[LeverChannel]
    limits: list[ContactLimit]
    suppress_after_rejections: int | None
    rejection_window_days: int | None
    suppression_days: int | None
    updated_at: datetime | None

    @classmethod
    def from_domain(cls, policy: policies.ContactPolicy) -> ContactPolicy:
        return cls(
            decision_point=policy.decision_point, channel=policy.channel,
            lever_channels=[LeverChannel(lever=k, channel=v) for k, v in sorted(policy.lever_channels.items())],
            limits=[ContactLimit(max_contacts=l.max_contacts, period_days=l.period_days, channel=l.channel) for l in policy.limits],
            suppress_after_rejections=policy.rejections, rejection_window_days=policy.rejection_window_days,
            suppression_days=policy.suppression_days, updated_at=policy.updated_at,
        )


@strawberry.input(description="Replace the global contact policy (no decisionPoint) or a decision point's. Only the global one suppresses after rejections.")
class ContactPolicyInput:
    decision_point: str | None = None
    channel: str = policies.DEFAULT_CHANNEL
    lever_channels: list[LeverChannelInput] = strawberry.field(default_factory=list)
    limits: list[ContactLimitInput] = strawberry.field(default_factory=list)
    suppress_after_rejections: int | None = None
    rejection_window_days: int | None = None
    suppression_days: int | None = None

    def to_domain(self) -> policies.ContactPolicy:
        return policies.ContactPolicy(
            decision_point=self.decision_point, channel=self.channel,
            lever_channels={item.lever: item.channel for item in self.lever_channels},
            limits=tuple(policies.ContactLimit(l.max_contacts, l.period_days, l.channel) for l in self.limits),
            rejections=self.suppress_after_rejections, rejection_window_days=self.rejection_window_days,
            suppression_days=self.suppression_days,
        )


@strawberry.type(description="One contact: an activated decision and the channel it went out on.")
class Contact:
    channel: str
    activated_at: datetime
    decision: Decision

    @classmethod
    def from_domain(cls, found: tuple[values.Decision, str]) -> Contact:
        decision, channel = found
        assert decision.activated_at is not None
        return cls(channel=channel, activated_at=decision.activated_at, decision=Decision.from_domain(decision))


ConfigureContactPolicyResult = Annotated[ContactPolicy | InvalidInput, strawberry.union("ConfigureContactPolicyResult")]
