"""What every part of the local AWS stands on: its error type, the simulated clock, and the wire
(botocore's service models decode requests and encode answers)."""
