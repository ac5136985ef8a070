"""Next-best-offer use cases: levers, decision points, decisions, outcomes and the model registry."""

from services.offers.service import Offers

__all__ = ["Offers"]
