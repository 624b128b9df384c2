"""CLI commands for subscribers, readers' feedback and the outbox (registered by `cli.main`)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import click

from paperradar.cli.common import echo_rows, load_app, open_database, parse_day
from paperradar.errors import ConfigError
from paperradar.store.states import DeliveryStatus

if TYPE_CHECKING:
    from paperradar.app import App
    from paperradar.profiles.profile import Profile


def _shared_profile(app: App, name: str | None) -> Profile:
    shared = app.file_profiles or app.profiles
    names = {profile.name for profile in shared}
    for profile in app.profiles:
        if profile.name in names and (name is None or profile.name == name):
            return profile
    raise ConfigError(f"no shared profile {name!r} (profiles: {', '.join(sorted(names))})")


def _voting_profile(app: App, name: str | None) -> Profile:
    """The profile a vote is about: any profile by name (a chat's own too), else the first."""
    found = next((p for p in app.profiles if p.name == name), None)
    return found or _shared_profile(app, name)


@click.group("subscribers")
def subscribers_group() -> None:
    """Who receives the digests: Telegram chats, e-mail addresses, WeCom groups."""


@subscribers_group.command("add")
@click.option("--channel", required=True, help="telegram, email or wecom.")
@click.argument("recipient")
@click.option("--profile", "profile_name", help="The shared profile (default: the first).")
@click.option("--topic", "topics", multiple=True, help="A topic key (repeat; default: all).")
@click.option("--language", type=click.Choice(["zh", "en", "both"]), help="Digest languages.")
@click.option("--min", "min_percent", type=click.IntRange(0, 100), help="Minimum percent.")
@click.option("--max", "max_items", type=click.IntRange(1, 50), help="Max items per topic.")
@click.option("--time", "delivery_time", help="Delivery time HH:MM.")
@click.option(
    "--timezone",
    help="Time zone of --time, e.g. Europe/Berlin (default: Asia/Shanghai, the setting "
    "schedule.delivery_timezone).",
)
def add_subscriber(
    channel: str,
    recipient: str,
    profile_name: str | None,
    topics: tuple[str, ...],
    **options: object,
) -> None:
    """Subscribe a recipient to a shared profile's topics (or add topics to its subscription)."""
    from paperradar.readers import subscriptions
    from paperradar.store.db import session_scope

    app = load_app(current_profiles=True)
    profile = _shared_profile(app, profile_name)
    with session_scope(app.engine) as session:
        row = subscriptions.subscribe(
            session, channel=channel, recipient=recipient, profile=profile, topics=topics or None
        )
        if options["language"]:
            row.language = subscriptions.parse_language(str(options["language"]))
        if options["delivery_time"]:
            row.delivery_time = subscriptions.parse_delivery_time(str(options["delivery_time"]))
        if options["timezone"]:
            row.timezone = subscriptions.parse_timezone(str(options["timezone"]))
        for name in ("min_percent", "max_items"):
            if options[name] is not None:
                setattr(row, name, options[name])
        session.add(row)
        click.echo(f"{row.channel} {row.recipient}: {profile.name} · {', '.join(row.topics)}")


@subscribers_group.command("list")
@click.option("--channel", help="Only this channel.")
def list_subscribers(channel: str | None) -> None:
    """List the subscriptions."""
    from paperradar.readers import subscriptions
    from paperradar.store.db import session_scope

    lines = []
    with session_scope(open_database()) as session:
        for row in subscriptions.list_subscriptions(session, channel=channel):
            state = "active" if row.active else "stopped"
            extras = [
                f"{label} {value}"
                for label, value in (
                    ("language", row.language),
                    ("min", row.min_percent),
                    ("max", row.max_items),
                    ("at", row.delivery_time),
                    ("zone", row.timezone),
                )
                if value is not None
            ]
            lines.append(
                f"{row.channel}\t{row.recipient}\t{state}\t{row.profile}: "
                f"{', '.join(row.topics) or '(no shared topics)'}"
                + (f"\t{' · '.join(extras)}" if extras else "")
            )
    echo_rows(lines, none="no subscribers yet: `paperradar subscribers add` adds one")


@subscribers_group.command("remove")
@click.option("--channel", required=True, help="telegram, email or wecom.")
@click.argument("recipient")
def remove_subscriber(channel: str, recipient: str) -> None:
    """Delete a recipient's subscription."""
    from paperradar.readers import subscriptions
    from paperradar.store.db import session_scope

    with session_scope(open_database()) as session:
        if not subscriptions.remove_subscription(session, channel=channel, recipient=recipient):
            raise click.ClickException(f"no subscription of {recipient} on {channel}")
    click.echo(f"removed {channel} {recipient}")


@click.group("feedback")
def feedback_group() -> None:
    """Readers' 👍/👎 on picks, which the ranking learns from."""


@feedback_group.command("add")
@click.argument("paper_id")
@click.option("--topic", required=True, help="The topic key the vote is about.")
@click.option("--profile", "profile_name", help="The profile (default: the first).")
@click.option("--down", is_flag=True, help="A 👎 (default: 👍).")
@click.option("--user", default="cli", show_default=True, help="Who votes.")
def add_feedback(
    paper_id: str, topic: str, profile_name: str | None, down: bool, user: str
) -> None:
    """Record a vote on a paper for a topic."""
    from paperradar.readers import feedback
    from paperradar.store.db import session_scope

    app = load_app(current_profiles=True)
    profile = _voting_profile(app, profile_name)
    if topic not in profile.topics:
        raise ConfigError(f"profile {profile.name} has no topic {topic!r}")
    with session_scope(app.engine) as session:
        row = feedback.set_feedback(
            session,
            paper_id=paper_id,
            profile=profile.name,
            topic=topic,
            value=feedback.DOWN if down else feedback.UP,
            channel="cli",
            user_id=user,
        )
        click.echo(f"{row.paper_id} {row.profile}/{row.topic}: {row.value:+d} by {row.user_id}")


@feedback_group.command("list")
@click.option("--profile", "profile_name", help="Only this profile.")
def list_feedback(profile_name: str | None) -> None:
    """List the votes, newest first."""
    from paperradar.readers import feedback
    from paperradar.store.db import session_scope

    with session_scope(open_database()) as session:
        lines = [
            f"{row.updated_at:%Y-%m-%d %H:%M}\t{row.value:+d}\t{row.paper_id}\t"
            f"{row.profile}/{row.topic}\t{row.channel}:{row.user_id}"
            for row in feedback.list_feedback(session, profile=profile_name)
        ]
    echo_rows(lines, none="no votes yet")


@feedback_group.command("show")
@click.option("--profile", "profile_name", help="The profile (default: the first).")
def show_feedback(profile_name: str | None) -> None:
    """Show what each topic has learned from its votes: papers and the words they weigh."""
    from paperradar.rank.learned import topic_learning
    from paperradar.store.db import session_scope

    app = load_app(current_profiles=True)
    profile = _voting_profile(app, profile_name)
    with session_scope(app.engine) as session:
        learned = topic_learning(session, profile, app.embedder.model_name)
    if not learned:
        click.echo(f"no votes yet for {profile.name}")
    for topic in learned:
        click.echo(
            f"{topic.topic_title} [{topic.topic}]: {len(topic.liked)} 👍, {len(topic.disliked)} 👎"
        )
        click.echo(f"  more of: {', '.join(topic.more) or '-'}")
        click.echo(f"  less of: {', '.join(topic.less) or '-'}")
        click.echo(f"  {_taste_line(topic.agreement)}")
        for title in topic.liked:
            click.echo(f"  👍 {title}")
        for title in topic.disliked:
            click.echo(f"  👎 {title}")


def _taste_line(agreement: float | None) -> str:
    """How far a topic's votes agree, and what that does to the ranking."""
    if agreement is None:
        return "taste: not yet (it needs 2 👍 and 2 👎 on embedded papers)"
    return (
        f"taste: votes agree {agreement:.0%} (how well your other votes predict each one; "
        "the ranking weighs closeness to your 👍 and 👎 papers this much)"
    )


@feedback_group.command("suggest")
@click.option("--profile", "profile_name", help="The profile (default: the first).")
@click.option(
    "--day", callback=parse_day, help="Announcement day YYYY-MM-DD (default: the latest)."
)
@click.option("--count", type=click.IntRange(1, 20), default=3, show_default=True)
def suggest_feedback(profile_name: str | None, day: date | None, count: int) -> None:
    """Propose papers to rate: those each topic is least sure about (near its cutoff)."""
    from paperradar.ingest.papers import stored_papers
    from paperradar.rank import suggest as suggestions
    from paperradar.store.db import session_scope

    app = load_app(current_profiles=True)
    profile = _voting_profile(app, profile_name)
    with session_scope(app.engine) as session:
        day = day or suggestions.latest_day(session)
        if day is None:
            raise ConfigError("no papers fetched yet: run `paperradar run` first")
        proposed = suggestions.suggest(session, app.embedder, profile, day, count=count)
        papers = stored_papers(session, (m.paper_id for ms in proposed.values() for m in ms))
    for key, topic in profile.topics.items():
        click.echo(f"{topic.title} [{key}] (shown from {topic.min_percent}%)")
        for match in proposed.get(key, []):
            click.echo(f"  {match.paper_id}  {match.percent:3d}%  {papers[match.paper_id].title}")
    click.echo(
        f"Rate one: paperradar feedback add ID --topic KEY [--down] --profile {profile.name}"
    )


@click.command("deliver")
@click.option("--day", callback=parse_day, help="Also queue this day's digests (YYYY-MM-DD).")
def deliver(day: date | None) -> None:
    """Send the pending deliveries that are due (after a crash or a channel outage)."""
    from paperradar.deliver import outbox
    from paperradar.service.pipeline import run_stage

    app = load_app(current_profiles=True)
    report = run_stage(app, "delivery", day) if day else outbox.deliver_due(app.outbox())
    click.echo(report.line())


@click.command("deliveries")
@click.option("--status", type=click.Choice([status.value for status in DeliveryStatus]))
@click.option("--limit", default=30, show_default=True, type=click.IntRange(1))
def deliveries(status: str | None, limit: int) -> None:
    """List the outbox: each digest's delivery per recipient, newest first."""
    from sqlmodel import col, select

    from paperradar.store.db import session_scope
    from paperradar.store.records import Delivery, Digest

    query = (
        select(Delivery, Digest)
        .join(Digest, col(Digest.id) == col(Delivery.digest_id))
        .order_by(col(Digest.day).desc(), col(Delivery.id).desc())
        .limit(limit)
    )
    if status:
        query = query.where(Delivery.status == DeliveryStatus(status))
    with session_scope(open_database()) as session:
        lines = [
            f"{digest.day}\t{digest.profile}\t{row.channel}\t{row.recipient}\t{row.status}\t"
            f"{row.parts_sent}/{row.parts_total} parts\t{row.attempts} attempt(s)"
            + (f"\t{row.last_error}" if row.last_error else "")
            for row, digest in session.exec(query)
        ]
    echo_rows(lines, none="no deliveries" + (f" with status {status}" if status else ""))


COMMANDS = (subscribers_group, feedback_group, deliver, deliveries)
