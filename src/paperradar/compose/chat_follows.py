"""A chat's own follows (`/follow`) in the shared digest it reads."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session, select

from paperradar.compose.digests import DigestView
from paperradar.compose.people import people_items, subscription_follows
from paperradar.readers.topics import own_profile_name, subscription_id_of
from paperradar.store.records import Digest, Subscription


def with_chat_follows(session: Session, view: DigestView, subscription: Subscription) -> DigestView:
    """Add the papers of the authors a chat follows (`/follow`) to its shared digest.

    A chat with a digest of its own topics that day already sees them there (its own profile
    holds its follows), so they are added only when it has none: never twice.
    """
    if subscription_id_of(view.profile.name) is not None:
        return view
    follows = subscription_follows(session, subscription)
    own = own_profile_name(subscription)
    if (
        not follows
        or session.exec(
            select(Digest.id).where(Digest.profile == own, Digest.day == view.day)
        ).first()
    ):
        return view
    picked = {item.paper.arxiv_id: s.key for s in view.sections for item in s.items}
    found = people_items(
        session, profile=view.profile, day=view.day, follows=follows, picked=picked
    )
    shown = {person.paper.arxiv_id for person in view.people}
    added = tuple(person for person in found if person.paper.arxiv_id not in shown)
    return replace(view, people=view.people + added) if added else view
