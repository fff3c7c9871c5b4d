"""The accounting vocabulary that events and the ledger share: token usage (`usage`), exact
prices (`pricing`, from the `price_data.json` snapshot) and the ledger's figures (`figures`)."""
