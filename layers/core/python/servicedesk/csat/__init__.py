"""Customer satisfaction surveys: one question to the requester when a ticket is resolved."""
