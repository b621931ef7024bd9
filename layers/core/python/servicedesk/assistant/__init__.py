"""The AI assistant (issue 18): conversations with a language model that answers from the
knowledge base and opens or looks up tickets, always with the caller's own rights."""
