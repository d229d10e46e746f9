"""bagel's built-in prompt formats."""
