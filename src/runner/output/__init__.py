"""What a person reads: the session's JSON-lines event stream on stdout (`stdout_events`) and a
finished session as a tree (`view`, for `claude-runner view`)."""
