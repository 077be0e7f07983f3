"""`modelshare report`: who can see what across the organization, read-only (issue 23;
docs/report.md)."""
