"""Readers: subscriptions, their 👍/👎 votes, and unsubscribe links."""
