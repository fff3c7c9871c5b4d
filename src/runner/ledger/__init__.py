"""The ledger: every LLM call recorded once, final and exactly priced (`ledger`), matched with
the CLI's own records (`cli_records`), per query (`state`); every figure is a view of it
(`views`)."""
