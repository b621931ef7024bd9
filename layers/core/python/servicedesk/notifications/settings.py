"""The tenant's notification defaults, kept in tenants.settings under "notifications".

Which events e-mail a member who has not chosen for themselves: the same event types as
each person's preferences (``notifications.schemas.EventType``). A person's own choice for
an (event type, e-mail) pair always wins over the default; a pair they never set follows
the default, now and when an admin changes it later. In-app notifications are not
affected (each person's in-app choices default to on).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from servicedesk.notifications.schemas import EventType
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenant_settings import Section


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


class NotificationDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email_off: Annotated[list[EventType], AfterValidator(_unique)] = Field(
        default_factory=list,
        description="Events that do not e-mail a member unless they switched the e-mail on"
        " themselves (every other event e-mails by default)",
    )

    def email(self, event_type: str) -> bool:
        """Whether the event e-mails a member who has not chosen."""
        return event_type not in self.email_off


SECTION = Section(
    "notifications",
    NotificationDefaults,
    read=Permission.ADMIN_SETTINGS,
    noun="notification",
    what="notification defaults",
)


def from_tenant_settings(settings: dict[str, Any] | None) -> NotificationDefaults:
    """From a tenants.settings value already read (the consumer's tenant row)."""
    return NotificationDefaults.model_validate((settings or {}).get("notifications") or {})
