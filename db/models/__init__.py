"""ORM models, one module per aggregate. Importing this package registers them all."""

from db.models.alert import Alert
from db.models.budget import Budget, BudgetUsage, ContactPolicy
from db.models.campaign import Campaign
from db.models.api_key import ApiKey
from db.models.customer import Customer
from db.models.event import Event
from db.models.lifecycle import CustomerMetrics, CustomerScores, LifecycleSetting
from db.models.lifecycle_queue import LifecycleQueueEntry
from db.models.lever_rollup import LeverCustomerSums, LeverDaySums, LeverRollupMark, LeverUnactivatedDecision
from db.models.offer import Decision, DecisionPoint, Lever, ModelSnapshot, Outcome
from db.models.reason import CustomerReason, ReasonCode
from db.models.segment import Segment, SegmentMember
from db.models.stage import StageChange

__all__ = [
    "Alert",
    "Budget",
    "BudgetUsage",
    "ContactPolicy",
    "Campaign",
    "ApiKey",
    "Customer",
    "CustomerMetrics",
    "CustomerReason",
    "CustomerScores",
    "Decision",
    "DecisionPoint",
    "Event",
    "Lever",
    "LeverCustomerSums",
    "LeverDaySums",
    "LeverRollupMark",
    "LeverUnactivatedDecision",
    "LifecycleQueueEntry",
    "LifecycleSetting",
    "ModelSnapshot",
    "Outcome",
    "ReasonCode",
    "Segment",
    "SegmentMember",
    "StageChange",
]
