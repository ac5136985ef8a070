"""ORM models, one module per aggregate. Importing this package registers them all."""

from db.models.customer import Customer
from db.models.event import Event
from db.models.segment import Segment, SegmentMember
from db.models.stage import StageChange

__all__ = ["Customer", "Event", "Segment", "SegmentMember", "StageChange"]
