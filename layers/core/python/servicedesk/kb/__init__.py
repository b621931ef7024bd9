"""Knowledge base: articles, their versions and search (issue 18)."""
