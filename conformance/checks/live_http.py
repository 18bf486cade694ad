"""Placeholder: live checks for this topic are being written."""

from __future__ import annotations
