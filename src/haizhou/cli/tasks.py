"""``haizhou instructions`` (指令), ``haizhou supervision`` (三级盯案) and ``haizhou kpis``.

``instructions list | show ID | issue --from-finding ID | approve ID | reject ID | sign ID |
start ID | feedback ID | review ID | escalate | sweep | notifications | precision | policy``,
``supervision add | list | note | close | stats`` and the KPI report.
The command line acts as a bureau administrator (role ``admin``), recorded in the history as
``cli:<os user>``; the web app records the signed-in user and role instead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from haizhou.cli._common import console, friendly_errors, get_settings, print_json
from haizhou.cli.users import cli_actor
from haizhou.domain import InstructionStatus
from haizhou.errors import HaizhouError
from haizhou.settings import Settings
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker, session_scope
from haizhou.tasks import service, supervision
from haizhou.tasks.kpi_service import kpi_report
from haizhou.tasks.policy import InstructionPolicy, policy_from_mapping
from haizhou.tasks.service import FeedbackIn, InstructionRecord
from haizhou.tasks.supervision import MilestoneIn, SupervisedCase, Tier

app = typer.Typer(
    help="Instructions (指令): list, issue from a finding, sign (签收), feed back (反馈), "
    "review (审核), escalate overdue ones (督办).",
    no_args_is_help=True,
)
kpis_app = typer.Typer(
    help="KPIs (考核指标): incidents and cases by category with 同比/环比, 破案率, rankings, "
    "instruction on-time rates and model precision.",
    invoke_without_command=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
CLI_ROLE = "admin"
_STATUS_ZH = {
    "issued": "已下发",
    "signed": "已签收",
    "in_progress": "处置中",
    "fed_back": "已反馈",
    "closed": "已办结",
    "returned": "退回",
}


def _policy(settings: Settings) -> InstructionPolicy:
    """The instruction policy of the settings (``instruction_policy``), else the defaults."""
    return policy_from_mapping(settings.instruction_policy)


def _sessions(settings: Settings) -> sessionmaker[Session]:
    url = settings.resolved_database_url
    migrate.upgrade(url)
    return make_sessionmaker(make_engine(url))


def parse_moment(text: str | None, *, zone: ZoneInfo, option: str) -> datetime:
    """``--now``/``--date``: a date (local midnight) or ISO date-time; no zone = the bureau's.

    ``None`` is the current time.
    """
    if text is None:
        return datetime.now(UTC)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0, 0), tzinfo=zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise HaizhouError(
            f"{option} {text!r} is not a date (2026-03-01) or ISO date-time "
            "(2026-03-01T08:30, optionally with +08:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _iso(value: datetime | None, zone: ZoneInfo) -> str | None:
    return None if value is None else value.astimezone(zone).isoformat()


def instruction_json(record: InstructionRecord, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """One instruction as JSON (times in the bureau's zone)."""
    step = record.overdue_step(now)
    return {
        "id": record.id,
        "title": record.title,
        "kind": record.kind,
        "level": record.level.value,
        "status": record.status.value,
        "status_zh": _STATUS_ZH[record.status.value],
        "approval": record.approval,
        "jurisdiction_code": record.jurisdiction_code,
        "assisting_codes": list(record.assisting_codes),
        "assignee": record.assignee,
        "finding_id": record.finding_id,
        "model_id": record.model_id,
        "created_at": _iso(record.created_at, zone),
        "issued_at": _iso(record.issued_at, zone),
        "sign_due_at": _iso(record.sign_due_at, zone),
        "feedback_due_at": _iso(record.feedback_due_at, zone),
        "review_due_at": _iso(record.review_due_at, zone),
        "signed_at": _iso(record.signed_at, zone),
        "fed_back_at": _iso(record.fed_back_at, zone),
        "closed_at": _iso(record.closed_at, zone),
        "overdue_step": None if step is None else step.value,
        "escalation_level": record.escalation_level,
        "feedback": {
            "verified": record.feedback_verified,
            "text": record.feedback_text,
            "attachments": list(record.feedback_attachments),
        },
        "returned_count": record.returned_count,
        "refound_count": record.refound_count,
    }


def _status_cell(row: dict[str, Any]) -> str:
    if row["approval"] == "pending":
        return "待审批 (pending approval)"
    if row["approval"] == "rejected":
        return "不予下发 (rejected)"
    return f"{row['status_zh']} ({row['status']})"


def _say(text: str) -> None:
    console.print(text, highlight=False, soft_wrap=True)


@app.command("list")
@friendly_errors
def list_command(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help="Only this status (repeatable): " + ", ".join(s.value for s in InstructionStatus),
        ),
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only those with a late step.")
    ] = False,
    pending: Annotated[
        bool, typer.Option("--pending", help="Include those awaiting approval (待审批).")
    ] = False,
    now_text: Annotated[
        str | None, typer.Option("--now", help="Judge lateness at this time (default: now).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List instructions (指令列表), most urgent level first."""
    settings = get_settings(ctx)
    zone = settings.zone
    now = parse_moment(now_text, zone=zone, option="--now")
    for value in status or []:
        if value not in {s.value for s in InstructionStatus}:
            raise HaizhouError(
                f"--status {value!r} is not a status; use one of "
                + ", ".join(s.value for s in InstructionStatus)
            )
    with session_scope(_sessions(settings)) as session:
        records = service.list_instructions(
            session=session,
            scope=None,
            status=status or None,
            overdue=overdue,
            now=now,
            include_pending=pending,
        )
    rows = [instruction_json(r, zone, now) for r in records]
    if as_json:
        print_json(rows)
        return
    if not rows:
        _say(
            "No instructions match. Issue one with `haizhou instructions issue --from-finding ID`."
        )
        return
    table = Table(title="Instructions (指令)")
    for column in ("ID", "Level", "Status", "Unit (属地)", "Title", "Due (反馈时限)", "Late"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["level"],
            _status_cell(r),
            r["jurisdiction_code"] or "",
            r["title"],
            (r["feedback_due_at"] or "")[5:16].replace("T", " "),
            r["overdue_step"] or "",
        )
    Console().print(table)


@app.command("show")
@friendly_errors
def show_command(
    ctx: typer.Context,
    instruction_id: Annotated[int, typer.Argument(help="Instruction id.")],
    as_json: JsonOption = False,
) -> None:
    """Show one instruction with its full history (流转记录)."""
    settings = get_settings(ctx)
    zone, now = settings.zone, datetime.now(UTC)
    with session_scope(_sessions(settings)) as session:
        record = service.get_instruction(session=session, scope=None, instruction_id=instruction_id)
        history = service.instruction_history(
            session=session, scope=None, instruction_id=instruction_id
        )
    result = instruction_json(record, zone, now)
    result["history"] = [
        {
            "at": _iso(e.at, zone),
            "actor": e.actor,
            "actor_role": e.actor_role,
            "action": e.action,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "note": e.note,
        }
        for e in history
    ]
    if as_json:
        print_json(result)
        return
    _say(
        f"[bold]{record.id}[/] {record.title} — {record.level.value}, "
        f"{_STATUS_ZH[record.status.value]} ({record.status.value}), unit {record.jurisdiction_code}"
    )
    for e in result["history"]:
        _say(
            f"  {e['at'][:16]}  {e['action']:<10} {e['from_status'] or '-'} → {e['to_status']}"
            f"  {e['actor']}" + (f"  {e['note']}" if e["note"] else "")
        )


def _act(ctx: typer.Context, as_json: bool, verb: str, call: Any) -> None:
    settings = get_settings(ctx)
    now = datetime.now(UTC)
    with session_scope(_sessions(settings)) as session:
        record = call(session, now)
    result = instruction_json(record, settings.zone, now)
    if as_json:
        print_json(result)
        return
    _say(f"Instruction {record.id} {verb}: now {result['status_zh']} ({result['status']}).")


@app.command("issue")
@friendly_errors
def issue_command(
    ctx: typer.Context,
    from_finding: Annotated[int, typer.Option("--from-finding", help="Finding id (研判发现).")],
    fallback: Annotated[
        str | None,
        typer.Option("--fallback-unit", help="Lead unit when the finding is outside every area."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Issue an instruction from a finding by policy (or refresh the open one with its key)."""
    settings = get_settings(ctx)
    now = datetime.now(UTC)
    with session_scope(_sessions(settings)) as session:
        result = service.issue_from_finding(
            session=session,
            finding_id=from_finding,
            now=now,
            actor=cli_actor(),
            fallback_code=fallback,
            policy=_policy(settings),
        )
    payload = {
        "outcome": result.outcome,
        "instruction": None
        if result.instruction is None
        else instruction_json(result.instruction, settings.zone, now),
    }
    if as_json:
        print_json(payload)
        return
    if result.instruction is None:
        _say(f"Finding {from_finding}: the policy issues no instruction for it ({result.outcome}).")
        return
    _say(f"Finding {from_finding} → instruction {result.instruction.id}: {result.outcome}.")


@app.command("approve")
@friendly_errors
def approve_command(
    ctx: typer.Context,
    instruction_id: Annotated[int, typer.Argument()],
    as_json: JsonOption = False,
) -> None:
    """Approve an instruction awaiting approval (审批下发)."""
    _act(
        ctx,
        as_json,
        "approved and issued",
        lambda s, now: service.approve(
            session=s,
            instruction_id=instruction_id,
            now=now,
            actor=cli_actor(),
            actor_role=CLI_ROLE,
            policy=_policy(get_settings(ctx)),
        ),
    )


@app.command("reject")
@friendly_errors
def reject_command(
    ctx: typer.Context,
    instruction_id: Annotated[int, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason", help="Why it is not issued.")],
    as_json: JsonOption = False,
) -> None:
    """Reject an instruction awaiting approval (不予下发)."""
    _act(
        ctx,
        as_json,
        "rejected",
        lambda s, now: service.reject(
            session=s,
            instruction_id=instruction_id,
            now=now,
            actor=cli_actor(),
            actor_role=CLI_ROLE,
            reason=reason,
        ),
    )


@app.command("sign")
@friendly_errors
def sign_command(
    ctx: typer.Context,
    instruction_id: Annotated[int, typer.Argument()],
    assignee: Annotated[str | None, typer.Option("--assignee", help="Who carries it out.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Sign for an instruction (签收)."""
    _act(
        ctx,
        as_json,
        "signed",
        lambda s, now: service.sign(
            session=s,
            instruction_id=instruction_id,
            now=now,
            actor=cli_actor(),
            actor_role=CLI_ROLE,
            assignee=assignee,
        ),
    )


@app.command("start")
@friendly_errors
def start_command(
    ctx: typer.Context,
    instruction_id: Annotated[int, typer.Argument()],
    as_json: JsonOption = False,
) -> None:
    """Start work on an instruction (开始处置)."""
    _act(
        ctx,
        as_json,
        "started",
        lambda s, now: service.start(
            session=s,
            instruction_id=instruction_id,
            now=now,
            actor=cli_actor(),
            actor_role=CLI_ROLE,
        ),
    )


def _parse_verified(text: str) -> bool | None:
    value = text.strip().lower()
    if value in {"true", "yes", "1", "属实"}:
        return True
    if value in {"false", "no", "0", "不属实"}:
        return False
    if value in {"unknown", "none", "无法核实"}:
        return None
    raise HaizhouError(f"--verified {text!r}: use true, false or unknown")


@app.command("feedback")
@friendly_errors
def feedback_command(
    ctx: typer.Context,
    instruction_id: Annotated[int, typer.Argument()],
    verified: Annotated[
        str, typer.Option("--verified", help="Was the finding right? true, false or unknown.")
    ],
    text: Annotated[str, typer.Option("--text", help="What was found and done (处置情况).")],
    attach: Annotated[
        list[str] | None, typer.Option("--attach", help="Attachment reference (repeatable).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Feed back the result (反馈)."""
    feedback = FeedbackIn(verified=_parse_verified(verified), text=text, attachments=attach or [])
    _act(
        ctx,
        as_json,
        "fed back",
        lambda s, now: service.feed_back(
            session=s,
            instruction_id=instruction_id,
            feedback=feedback,
            now=now,
            actor=cli_actor(),
            actor_role=CLI_ROLE,
            policy=_policy(get_settings(ctx)),
        ),
    )


@app.command("review")
@friendly_errors
def review_command(
    ctx: typer.Context,
    instruction_id: Annotated[int, typer.Argument()],
    accept: Annotated[
        bool,
        typer.Option("--accept/--return", help="Accept and close (办结), or return for more work."),
    ],
    note: Annotated[
        str | None, typer.Option("--note", help="Review note; needed to return.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Review the feedback (审核): --accept closes it, --return sends it back."""
    _act(
        ctx,
        as_json,
        "closed" if accept else "returned",
        lambda s, now: service.review(
            session=s,
            instruction_id=instruction_id,
            accept=accept,
            note=note,
            now=now,
            actor=cli_actor(),
            actor_role=CLI_ROLE,
            policy=_policy(get_settings(ctx)),
        ),
    )


@app.command("escalate")
@friendly_errors
def escalate_command(
    ctx: typer.Context,
    now_text: Annotated[
        str | None, typer.Option("--now", help="Check lateness at this time (default: now).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Escalate every overdue instruction (督办) and notify the supervisors."""
    settings = get_settings(ctx)
    now = parse_moment(now_text, zone=settings.zone, option="--now")
    with session_scope(_sessions(settings)) as session:
        notes = service.escalate_overdue(session=session, now=now)
    rows = [
        {
            "id": n.id,
            "instruction_id": n.instruction_id,
            "recipient_unit": n.recipient_unit,
            "recipient_role": n.recipient_role,
            "message": n.message,
            "step": n.detail.get("step"),
            "escalation_level": n.detail.get("escalation_level"),
        }
        for n in notes
    ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        _say("Nothing overdue to escalate (无超时指令).")
        return
    for r in rows:
        _say(f"→ {r['recipient_unit'] or 'bureau (局)'}: {r['message']}")


@app.command("notifications")
@friendly_errors
def notifications_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List notifications (通知), newest first."""
    settings = get_settings(ctx)
    with session_scope(_sessions(settings)) as session:
        notes = service.list_notifications(session=session, scope=None)
    rows = [
        {
            "id": n.id,
            "created_at": _iso(n.created_at, settings.zone),
            "kind": n.kind,
            "recipient_unit": n.recipient_unit,
            "instruction_id": n.instruction_id,
            "message": n.message,
        }
        for n in notes
    ]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        _say(f"{r['created_at'][:16]}  {r['recipient_unit'] or 'bureau'}  {r['message']}")


@app.command("precision")
@friendly_errors
def precision_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Each model's verified precision from feedback (模型核实准确率), with a 95 % interval."""
    settings = get_settings(ctx)
    with session_scope(_sessions(settings)) as session:
        rows = service.model_precision(session=session)
    payload = [
        {
            "model_id": m.model_id,
            "verified_true": m.verified_true,
            "verified_false": m.verified_false,
            "unverified": m.unverified,
            "precision": m.precision,
            "low": m.low,
            "high": m.high,
        }
        for m in rows
    ]
    if as_json:
        print_json(payload)
        return
    if not payload:
        _say("No verified feedback yet.")
        return
    for m in payload:
        share = "—" if m["precision"] is None else f"{m['precision']:.1%}"
        _say(
            f"{m['model_id']}: {share} ({m['verified_true']} true / {m['verified_false']} false, "
            f"{m['unverified']} unverified)"
        )


@kpis_app.callback(invoke_without_command=True)
@friendly_errors
def kpis_command(
    ctx: typer.Context,
    period: Annotated[
        str, typer.Option("--period", help="day, week, month, quarter or year.")
    ] = "month",
    date_text: Annotated[
        str | None,
        typer.Option("--date", help="A day in the period to report (default: today)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """KPIs of a period (考核指标): 同比, 环比, 破案率, rankings, on-time rates."""
    if ctx.invoked_subcommand is not None:
        return
    settings = get_settings(ctx)
    now = datetime.now(UTC)
    at = parse_moment(date_text, zone=settings.zone, option="--date")
    with session_scope(_sessions(settings)) as session:
        report = kpi_report(
            session=session, scope=None, at=at, now=now, period=period, tz=settings.timezone
        )
    payload = report.to_dict()
    if as_json:
        print_json(payload)
        return
    _say(f"[bold]KPIs {payload['start'][:10]} – {payload['end'][:10]}[/] ({period})")

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:+.1%}"

    for title, key in (("Incidents (警情)", "incidents"), ("Cases (案件)", "cases")):
        table = Table(title=title)
        for column in ("Category", "This", "Previous", "Last year", "环比", "同比"):
            table.add_column(column)
        for r in payload[key]:
            table.add_row(
                str(r["category"]),
                str(r["current"]),
                str(r["previous"]),
                str(r["last_year"]),
                pct(r["pop"]),
                pct(r["yoy"]),
            )
        Console().print(table)

    def rate(r: dict[str, Any]) -> str:
        share = "—" if r["rate"] is None else f"{r['rate']:.1%}"
        return f"{share} ({r['numerator']}/{r['denominator']})"

    _say(f"破案率 (cohort): {rate(payload['clearance_rate_cohort'])}")
    _say(f"破案率 (flow):   {rate(payload['clearance_rate_flow'])}")
    _say(f"破案数 {payload['cases_solved']}, 抓获嫌疑人 {payload['suspects_caught']}")
    _say(
        f"按时签收率 {rate(payload['on_time_signing'])}, 按时反馈率 {rate(payload['on_time_feedback'])}"
    )


@app.command("policy")
@friendly_errors
def policy_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the instruction policy in force (指令下发策略): rules and deadlines per level.

    Set it with ``instruction_policy`` in the config file (HAIZHOU_CONFIG) or the
    HAIZHOU_INSTRUCTION_POLICY variable (JSON); what is left out keeps the defaults.
    """
    policy = _policy(get_settings(ctx))
    payload = {
        "rules": {
            kind: {level.value: decision.value for level, decision in table.items()}
            for kind, table in policy.rules.items()
        },
        **{
            name: {level.value: hours for level, hours in getattr(policy, name).items()}
            for name in ("sign_within_h", "feedback_within_h", "review_within_h")
        },
        "person_evidence_key": policy.person_evidence_key,
    }
    if as_json:
        print_json(payload)
        return
    table = Table(title="instruction policy (指令下发策略)")
    for column in ("level", "default rule", "sign (h)", "feedback (h)", "review (h)"):
        table.add_column(column)
    star = payload["rules"].get("*", {})
    for level in ("red", "orange", "yellow", "blue"):
        table.add_row(
            level,
            star.get(level, "approval"),
            f"{payload['sign_within_h'][level]:g}",
            f"{payload['feedback_within_h'][level]:g}",
            f"{payload['review_within_h'][level]:g}",
        )
    Console().print(table)
    for kind, rules in payload["rules"].items():
        if kind != "*":
            _say(f"kind {kind}: " + ", ".join(f"{lv} {d}" for lv, d in rules.items()))


# --- case supervision (三级盯案) ---------------------------------------------------------------

supervision_app = typer.Typer(
    help="Case supervision (三级盯案): put a case under supervision (挂牌盯办), list what is "
    "late, add progress notes, close, statistics by level and unit.",
    no_args_is_help=True,
)


def supervised_json(case: SupervisedCase, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """One supervised case as JSON (times in the bureau's zone)."""
    return {
        "id": case.id,
        "title": case.title,
        "level": case.level.value,
        "lead": case.lead,
        "specialist_unit": case.specialist_unit,
        "station_code": case.station_code,
        "deadline": _iso(case.deadline, zone),
        "status": case.status,
        "late": case.is_late(now),
        "opened_at": _iso(case.opened_at, zone),
        "opened_by": case.opened_by,
        "closed_at": _iso(case.closed_at, zone),
        "closing_note": case.closing_note,
        "case_source": case.case_source,
        "case_source_id": case.case_source_id,
        "milestones": [
            {
                "id": m.id,
                "title": m.title,
                "tier": m.tier.value,
                "due_at": _iso(m.due_at, zone),
                "done_at": _iso(m.done_at, zone),
                "late": m.is_late(now),
            }
            for m in case.milestones
        ],
        "notes": [
            {"at": _iso(n.at, zone), "author": n.author, "tier": n.tier.value, "text": n.text}
            for n in case.notes
        ],
    }


def _parse_milestone(text: str, zone: ZoneInfo) -> MilestoneIn:
    """``--milestone "2026-03-10=走访群众"`` or ``"2026-03-10=调取监控=specialist"``."""
    parts = text.split("=")
    if len(parts) not in {2, 3} or not parts[1].strip():
        raise HaizhouError(
            f"--milestone {text!r} must be DUE=TITLE or DUE=TITLE=TIER "
            "(e.g. 2026-03-10=走访群众=station; tiers: lead, specialist, station)"
        )
    due = parse_moment(parts[0].strip(), zone=zone, option="--milestone")
    tier = parts[2].strip() if len(parts) == 3 else Tier.STATION.value
    if tier not in {t.value for t in Tier}:
        raise HaizhouError(f"milestone tier must be lead, specialist or station; got {tier!r}")
    return MilestoneIn(title=parts[1].strip(), due_at=due, tier=Tier(tier))


@supervision_app.command("add")
@friendly_errors
def supervision_add(
    ctx: typer.Context,
    title: Annotated[str, typer.Option("--title", help="The case (案件名称).")],
    lead: Annotated[str, typer.Option("--lead", help="Bureau leader in charge (局领导).")],
    specialist: Annotated[
        str, typer.Option("--specialist", help="Supporting specialist unit (专业警种).")
    ],
    station: Annotated[str, typer.Option("--station", help="Station jurisdiction code (派出所).")],
    deadline: Annotated[str, typer.Option("--deadline", help="Date or ISO date-time.")],
    level: Annotated[str, typer.Option("--level", help="red, orange, yellow or blue.")] = "orange",
    case: Annotated[
        str | None,
        typer.Option("--case", help="The recorded case as SOURCE:ID (e.g. jz:A2026001)."),
    ] = None,
    milestone: Annotated[
        list[str] | None,
        typer.Option("--milestone", help="DUE=TITLE[=TIER], repeatable (节点)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Put a case under three-level supervision (挂牌盯办)."""
    settings = get_settings(ctx)
    zone = settings.zone
    now = datetime.now(UTC)
    source, source_id = None, None
    if case is not None:
        source, sep, source_id = case.partition(":")
        if not sep or not source or not source_id:
            raise HaizhouError(f"--case {case!r} must be SOURCE:ID, e.g. jz:A2026001")
    with session_scope(_sessions(settings)) as session:
        created = supervision.supervise_case(
            session=session,
            title=title,
            level=level,
            lead=lead,
            specialist_unit=specialist,
            station_code=station,
            deadline=parse_moment(deadline, zone=zone, option="--deadline"),
            now=now,
            actor=cli_actor(),
            actor_role=CLI_ROLE,
            case_source=source,
            case_source_id=source_id,
            milestones=[_parse_milestone(m, zone) for m in milestone or []],
        )
    result = supervised_json(created, zone, now)
    if as_json:
        print_json(result)
        return
    _say(f"Supervised case {created.id} 「{created.title}」 opened; deadline {result['deadline']}.")


@supervision_app.command("list")
@friendly_errors
def supervision_list(
    ctx: typer.Context,
    late: Annotated[
        bool, typer.Option("--late", help="Only what is late: cases and milestones past due.")
    ] = False,
    status: Annotated[
        str | None, typer.Option("--status", help="open or closed (default both).")
    ] = None,
    now_text: Annotated[
        str | None, typer.Option("--now", help="Judge lateness at this time (default: now).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List supervised cases by deadline (盯案列表); --late for what is overdue."""
    settings = get_settings(ctx)
    zone = settings.zone
    now = parse_moment(now_text, zone=zone, option="--now")
    if status not in {None, "open", "closed"}:
        raise HaizhouError(f"--status must be open or closed; got {status!r}")
    with session_scope(_sessions(settings)) as session:
        if late:
            report = supervision.overdue(session=session, now=now)
            late_ids = {c.id for c in report.cases} | {
                m.supervised_case_id for m in report.milestones
            }
            cases = [
                c
                for c in supervision.list_supervised(session=session, scope=None, status="open")
                if c.id in late_ids
            ]
        else:
            cases = supervision.list_supervised(session=session, scope=None, status=status)
    rows = [supervised_json(c, zone, now) for c in cases]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} supervised case(s) (盯办案件)")
    for column in ("id", "level", "title", "station", "deadline", "status", "late milestones"):
        table.add_column(column)
    for r in rows:
        late_ms = sum(m["late"] and m["done_at"] is None for m in r["milestones"])
        table.add_row(
            str(r["id"]),
            r["level"],
            r["title"],
            r["station_code"],
            (r["deadline"] or "")[:16] + (" 超期" if r["late"] and r["status"] == "open" else ""),
            r["status"],
            str(late_ms),
        )
    Console().print(table)


@supervision_app.command("note")
@friendly_errors
def supervision_note(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="Supervised case id.")],
    text: Annotated[str, typer.Option("--text", help="What was done (进展).")],
    tier: Annotated[
        str, typer.Option("--tier", help="lead, specialist or station.")
    ] = Tier.STATION.value,
    as_json: JsonOption = False,
) -> None:
    """Add a progress note (进展记录) for one of the three tiers."""
    settings = get_settings(ctx)
    if tier not in {t.value for t in Tier}:
        raise HaizhouError(f"--tier must be lead, specialist or station; got {tier!r}")
    now = datetime.now(UTC)
    with session_scope(_sessions(settings)) as session:
        note = supervision.add_note(
            session=session,
            supervised_case_id=case_id,
            author=cli_actor(),
            tier=tier,
            text=text,
            now=now,
        )
    result = {
        "id": note.id,
        "case_id": case_id,
        "at": _iso(note.at, settings.zone),
        "author": note.author,
        "tier": note.tier.value,
        "text": note.text,
    }
    if as_json:
        print_json(result)
        return
    _say(f"Note {note.id} added to supervised case {case_id} ({note.tier.title_zh}).")


@supervision_app.command("close")
@friendly_errors
def supervision_close(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="Supervised case id.")],
    note: Annotated[str, typer.Option("--note", help="Closing note, e.g. 已破案.")],
    as_json: JsonOption = False,
) -> None:
    """Close the supervision (销号)."""
    settings = get_settings(ctx)
    now = datetime.now(UTC)
    with session_scope(_sessions(settings)) as session:
        case = supervision.close_supervision(
            session=session,
            supervised_case_id=case_id,
            now=now,
            actor=cli_actor(),
            actor_role=CLI_ROLE,
            note=note,
        )
    if as_json:
        print_json(supervised_json(case, settings.zone, now))
        return
    _say(f"Supervised case {case_id} closed.")


@supervision_app.command("stats")
@friendly_errors
def supervision_stats_command(
    ctx: typer.Context,
    now_text: Annotated[
        str | None, typer.Option("--now", help="Judge lateness at this time (default: now).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Statistics by level and by the unit of each tier (按级别、按单位统计)."""
    settings = get_settings(ctx)
    now = parse_moment(now_text, zone=settings.zone, option="--now")
    with session_scope(_sessions(settings)) as session:
        stats = supervision.supervision_stats(session=session, now=now)
    payload = {
        "by_level": stats.by_level.to_dict(orient="records"),
        "by_unit": stats.by_unit.to_dict(orient="records"),
    }
    if as_json:
        print_json(payload)
        return
    for title, frame in (
        ("by level (按级别)", stats.by_level),
        ("by unit (按单位)", stats.by_unit),
    ):
        table = Table(title=title)
        for column in frame.columns:
            table.add_column(str(column))
        for row in frame.itertuples(index=False):
            table.add_row(*(str(v) for v in row))
        Console().print(table)


@app.command("sweep")
@friendly_errors
def sweep_command(
    ctx: typer.Context,
    days: Annotated[
        int, typer.Option("--days", min=1, max=3650, help="Findings of the last N days.")
    ] = 7,
    fallback: Annotated[
        str | None,
        typer.Option("--fallback-unit", help="Lead unit for findings outside every area."),
    ] = None,
    now_text: Annotated[
        str | None, typer.Option("--now", help="The time of the sweep (default: now).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Issue new findings by policy (自动下发) and escalate what is late (督办).

    Run it after the models, e.g. every few minutes from a timer next to
    ``haizhou models schedule --loop``; running it again changes nothing.
    """
    settings = get_settings(ctx)
    now = parse_moment(now_text, zone=settings.zone, option="--now")
    payload = sweep(settings, _sessions(settings), now, days=days, fallback=fallback)
    if as_json:
        print_json(payload)
        return
    counts = ", ".join(f"{k} {v}" for k, v in payload["findings"].items())
    _say(f"Findings of the last {days} day(s): {counts}.")
    if payload["unrouted_findings"]:
        _say(
            f"[yellow]Not routed[/] (outside every unit; give --fallback-unit): "
            f"{', '.join(map(str, payload['unrouted_findings']))}"
        )
    _say(f"Escalated (督办): {len(payload['escalated'])} instruction(s).")


def sweep(
    settings: Settings,
    factory: sessionmaker[Session],
    now: datetime,
    *,
    days: int = 7,
    fallback: str | None = None,
) -> dict[str, Any]:
    """Issue the last ``days`` of findings by policy and escalate what is late, in one
    transaction; the ``haizhou instructions sweep`` payload. Idempotent."""
    with session_scope(factory) as session:
        swept = service.issue_findings(
            session=session,
            now=now,
            since=now - timedelta(days=days),
            actor=cli_actor(),
            policy=_policy(settings),
            fallback_code=fallback,
        )
        notes = service.escalate_overdue(session=session, now=now)
    return {
        "findings": swept.counts,
        "unrouted_findings": list(swept.unrouted),
        "escalated": [n.instruction_id for n in notes],
    }
