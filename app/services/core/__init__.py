"""Shared by every domain: errors, audit, locking, settings, reference data, numbering."""
