"""SSM Parameter Store beyond moto: parameter history and the tiers' value limits."""
