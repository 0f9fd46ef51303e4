class InfraUnavailable(RuntimeError):
    """A piece of infrastructure cannot be found or started; the message says what to do."""
