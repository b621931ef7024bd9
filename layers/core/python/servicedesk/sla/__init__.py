"""SLA engine: business calendars, business-time arithmetic and SLA targets."""
