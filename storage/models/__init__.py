"""All tables, importable from one place (``from storage.models import Customer``)."""

from storage.models.audit import AuditEvent, ImportBatch
from storage.models.base import Base
from storage.models.chat import ChatIdentity, ConversationRef, FileOffer, InboundEvent
from storage.models.collections import (
    DEFAULT_HOLD_KIND,
    Activity,
    ActivityKind,
    Dispute,
    DisputeStatus,
    Hold,
    HoldStatus,
    Outcome,
    PaymentPlan,
    PlanInstalment,
    PlanStatus,
    Promise,
    PromiseStatus,
)
from storage.models.ledger import Contact, Customer, Invoice, InvoiceKind, OpenItemPack, Payment
from storage.models.mail import OutgoingEmail
from storage.models.outbox import OutboxEntry
from storage.models.reports import ReceivableRollup, SalesDay, TargetState
from storage.models.retainers import WHOLE_ACCOUNT, RetainerRequirement
from storage.models.suspension import SuspensionSequence
from storage.models.team import TeamMember
from storage.models.workflows import (
    AdjustmentStatus,
    AdjustmentTask,
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    ClearanceRequest,
    ClearanceStatus,
    ConfirmationStatus,
    FeeWaiver,
    JobRun,
    PaymentConfirmation,
    PostedMessage,
)

__all__ = [
    "DEFAULT_HOLD_KIND",
    "Activity",
    "ActivityKind",
    "AuditEvent",
    "Base",
    "Contact",
    "Customer",
    "Dispute",
    "DisputeStatus",
    "Hold",
    "HoldStatus",
    "ImportBatch",
    "Invoice",
    "InvoiceKind",
    "OpenItemPack",
    "Outcome",
    "OutboxEntry",
    "OutgoingEmail",
    "Payment",
    "PaymentPlan",
    "ReceivableRollup",
    "SalesDay",
    "PlanInstalment",
    "PlanStatus",
    "Promise",
    "PromiseStatus",
    "TargetState",
    "TeamMember",
    "AdjustmentStatus",
    "AdjustmentTask",
    "ApprovalKind",
    "ApprovalRequest",
    "ApprovalStatus",
    "ClearanceRequest",
    "ClearanceStatus",
    "ConfirmationStatus",
    "FeeWaiver",
    "FileOffer",
    "JobRun",
    "ChatIdentity",
    "ConversationRef",
    "InboundEvent",
    "PaymentConfirmation",
    "PostedMessage",
    "RetainerRequirement",
    "WHOLE_ACCOUNT",
    "SuspensionSequence",
]
