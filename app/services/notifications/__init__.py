"""Stored notifications: who is told what, and each person's inbox."""
