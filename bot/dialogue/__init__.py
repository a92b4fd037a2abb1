"""The dialogue core every channel uses: one message model, one policy, one conversation store."""
