"""Neuvo's understanding layer: language, intent, topic, action and crisis detection."""
