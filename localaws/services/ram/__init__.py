"""Emulated AWS RAM: the API (api.py), the data model, and the state machine of shares."""
