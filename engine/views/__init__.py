"""One module per page, named like the page: the records and kinds that page draws. Never sentences of the engine's own."""
