"""Core shared by every stockdrift package: config, clock, warehouse schema, exception queue."""
