"""Generation: style presets, the grid plan and prompt, the model table, prices, and the OpenAI calls."""
