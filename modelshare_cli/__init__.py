"""The `modelshare` command line (installed into the project's virtualenv by the Makefile)."""
