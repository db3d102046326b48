"""Who opened the chat app's Home, per company: only they get it published again on changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.tables.columns import new_id, utc_column


class HomeViewerRow(SQLModel, table=True):
    """A chat user who opened Home; a Slack user id means something only with its team."""

    __tablename__ = "home_viewer"
    __table_args__ = (UniqueConstraint("company_id", "platform", "workspace_id", "user_id"),)
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    platform: str
    workspace_id: str
    user_id: str
    is_workspace_admin: bool = False  # as the platform last said (open or refresh)
    digest: str = ""  # of the view last published for them, so an unchanged one is not sent again
    opened_at: datetime = utc_column(now=True)
