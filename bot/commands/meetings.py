"""Starting a meeting early by hand: `/meetings start BOOKING` and the Start button."""

from __future__ import annotations

from bot.commands.authorization import access_of
from bot.commands.deps import AdminDeps
from bot.commands.kinds import StartMeeting
from bot.commands.reply import Reply, beside, say
from bot.domain import Actor, Company, MeetingState
from bot.messages import LinkButton


async def start_command(
    deps: AdminDeps, actor: Actor, company: Company, command: StartMeeting
) -> Reply:
    meeting_id = deps.booking_records.meeting_id_for_booking(
        company_id=company.id, reference=command.booking
    )
    if meeting_id is None:
        return say(
            "No such meeting",
            f"No online meeting belongs to booking “{command.booking}”. "
            "Use the booking's code or number as SimplyBook.me shows it.",
        )
    return start_meeting(deps, actor, meeting_id=meeting_id)


def start_meeting(deps: AdminDeps, actor: Actor, *, meeting_id: str) -> Reply:
    """Opens a meeting early for its clients (S11, S13), and hands the presser the host link."""
    company = deps.companies.company_for_workspace(
        platform=actor.platform.value, workspace_id=actor.workspace_id
    )
    found = (
        deps.meetings.meeting_to_start(company_id=company.id, meeting_id=meeting_id)
        if company
        else None
    )
    if company is None or found is None:
        return beside(say("Meeting not found", "This meeting no longer exists."))
    meeting, provider_id = found
    if not access_of(deps.staff, actor, company).may_act_for("start", provider_id):
        return beside(
            say(
                "Not allowed",
                "Starting a meeting by hand needs the admin or senior role, or "
                "junior staff tied to this meeting's provider.",
            )
        )
    if meeting.state in (MeetingState.CANCELLED, MeetingState.GONE):
        return beside(say("This meeting was cancelled", ""))
    deps.meetings.open_early(meeting_id=meeting.id)
    deps.audit(
        company.id,
        actor,
        "started a meeting early",
        f"meeting at {meeting.start:%Y-%m-%d %H:%M} UTC",
    )
    host_link = deps.urls.host_link(meeting.host_token)
    return beside(
        say(
            "The meeting is open",
            "Clients can join now. Open it as the host:",
            buttons=(LinkButton("Open as host", host_link, primary=True),),
        )
    )
