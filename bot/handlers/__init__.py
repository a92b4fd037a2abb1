"""Channels: one module per way citizens reach Neuvo, all speaking one message model."""
