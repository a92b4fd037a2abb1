"""Neuvo's application: dialogue, storage, channels and the ``neuvo`` command line."""
