"""Runner events → the session tree: the builder routes each event to the part that owns its
state (calls, tools, subagents, compactions); `lifecycle` ends each node exactly once."""
