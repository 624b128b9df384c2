"""The LLM client, its prompts as data files, provider presets and what calls cost."""
