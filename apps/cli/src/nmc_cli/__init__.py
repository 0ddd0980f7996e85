"""The `nmc` command line."""

__all__: list[str] = []
