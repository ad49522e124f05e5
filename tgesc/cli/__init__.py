"""The admin CLI: Typer apps, one module per noun. Parse, make one service call, render."""
