"""Notifications to patients, through an outbox written with the event and delivered by a worker."""
