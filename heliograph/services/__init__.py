"""Use cases. Each module owns one domain of state changes; transactions begin and end here,
and updates are published on the bus only after their transaction has committed."""
