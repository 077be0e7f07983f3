"""What runs modelshare on the local AWS: deploying the stack, `modelshare simulate` scenarios,
the safety oracle, the insider, the bench. Nothing in services/ or runtime/ imports it."""
