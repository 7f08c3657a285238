"""What the receiver stored: the count probe, the state probe, and the wait for counts to settle."""
