"""The owner side, one module per job, each a function of one invocation's Run (run.py):

- service: the entry points the functions and the admin commands call (OwnerService)
- create: share on create; promote: RAM's wake-ups and promotion; sweep: the sweep and its
  fan-out; sweep_work: the sweep's workers; cleanup: shares of deleted groups; status: where
  one group stands; shares_sweep: the shares mode's runs; mode_switch: moving between the modes
- apply: a group's decision made true; promotion and permissions: promoting shares and the
  permissions they get; reads: what a run reads; quota: RAM's quotas as a run meets them;
  outcome: what a job reports
"""
