"""Human handoff: team queues, routing, advisor accounts and the console."""
