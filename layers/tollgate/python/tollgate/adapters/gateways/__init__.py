"""Gateway provider adapters (issue 19): one module per gateway type, built by ``registry.build_provider``."""
