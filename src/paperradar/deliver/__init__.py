"""The outbox: deliveries planned, claimed and sent part by part through the channels."""
