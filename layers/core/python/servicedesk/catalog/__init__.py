"""The service catalog: request categories, their custom-field schemas and default teams."""
