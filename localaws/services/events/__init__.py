"""EventBridge: the default bus of each account and Region, and the CloudTrail events on it."""
