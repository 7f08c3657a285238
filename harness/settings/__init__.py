"""Settings: the config file, and the one resolver of options, environment and config file into a `RunConfig`."""
