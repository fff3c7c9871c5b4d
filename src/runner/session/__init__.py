"""The session stage: the driver runs one Claude Agent SDK session (`driver`), reads what it needs
from a query's events (`query_watch`, `api_retries`), checks the model credentials while the CLI
starts (`preflight`), takes user messages from stdin (`stdin_input`) and hands the SDK's stream
to observers through the event stream (`event_stream` → events → ledger → `observers`).
It knows nothing of spans."""
