"""Model providers: text embeddings (knowledge search) and the language model (assistant,
drafts), each behind one interface chosen by configuration."""
