"""Scheduled report subscriptions API (managers and admins). Thin: the Resource table."""

from __future__ import annotations

from fastapi import APIRouter

from servicedesk.exports import subscriptions as service
from servicedesk.exports.subscription_schemas import (
    SubscriptionCreate,
    SubscriptionPublic,
    SubscriptionUpdate,
)
from servicedesk.platform.endpoints import Resource
from servicedesk.platform.rbac import Permission

router = APIRouter(prefix="/v1", tags=["reports"])
subscriptions = Resource(
    router,
    "/report-subscriptions",
    "subscription_id",
    "report_subscription",
    SubscriptionPublic,
    Permission.REPORT_SCHEDULE,
    Permission.REPORT_SCHEDULE,
)
subscriptions.list("Scheduled report deliveries of the organisation", service.list_subscriptions)
subscriptions.create(
    "Schedule a report's delivery by e-mail (daily, weekly or monthly, in a time zone)",
    SubscriptionCreate,
    service.create_subscription,
)
subscriptions.get("One scheduled delivery", service.get_subscription)
subscriptions.update(
    "Change a scheduled delivery (needs If-Match or version)",
    SubscriptionUpdate,
    service.update_subscription,
)
subscriptions.delete("Stop and remove a scheduled delivery", service.delete_subscription)
