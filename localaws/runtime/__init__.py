"""The local AWS as one running cloud: the botocore hook that routes every call (cloud.py), what a
call costs and the faults it may meet, and Lambda running the deployed functions."""
