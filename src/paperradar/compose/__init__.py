"""Digests: the day's picks per profile, and the views and text every renderer reads."""
