"""GraphQL enums mirroring the domain vocabularies."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="Where a customer is in the lifecycle.")
class Stage(Enum):
    AWARENESS = "AWARENESS"
    ACQUISITION = "ACQUISITION"
    CONVERSION = "CONVERSION"
    GROWTH = "GROWTH"
    RETENTION = "RETENTION"
    CHURNED = "CHURNED"
    REACTIVATED = "REACTIVATED"


@strawberry.enum(description="How a customer first came to us.")
class AcquisitionChannel(Enum):
    WORD_OF_MOUTH = "WORD_OF_MOUTH"
    REFERRAL = "REFERRAL"
    ADVERTISING = "ADVERTISING"
    DIRECT = "DIRECT"
    PARTNER = "PARTNER"
    OTHER = "OTHER"


@strawberry.enum
class EventType(Enum):
    PURCHASE = "PURCHASE"
    COMPLAINT = "COMPLAINT"
    SURVEY = "SURVEY"
    CONTACT = "CONTACT"
    SIGNUP = "SIGNUP"
    TRIAL_STARTED = "TRIAL_STARTED"
    SUBSCRIPTION_CANCELLED = "SUBSCRIPTION_CANCELLED"
    CUSTOM = "CUSTOM"


@strawberry.enum
class ContactDirection(Enum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


@strawberry.enum(description="Sort order of customer lists; ties are broken by id.")
class CustomerOrder(Enum):
    CREATED_AT_DESC = "CREATED_AT_DESC"
    CREATED_AT_ASC = "CREATED_AT_ASC"
    ID_ASC = "ID_ASC"
    ID_DESC = "ID_DESC"
