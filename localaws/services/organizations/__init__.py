"""Emulated AWS Organizations: one organization, its OUs and accounts."""
